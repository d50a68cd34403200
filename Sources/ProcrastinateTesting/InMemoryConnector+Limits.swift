import Foundation
public import Procrastinate

/// A limit and the times of its latest starts: one row of `procrastinate_swift_limits` or
/// `procrastinate_swift_limit_keys`.
struct LimitWindow: Sendable {
    var limit: Limit
    /// Starts within the rate's period, oldest first (none without a rate).
    var starts: [Date] = []

    /// The starts within `window` before `now`.
    func starts(within window: Duration, before now: Date) -> Int {
        starts.count { $0 > now.addingTimeInterval(-window.seconds) }
    }

    /// The starts within the rate's period before `now`.
    func recentStarts(at now: Date) -> Int {
        limit.rate.map { starts(within: $0.period, before: now) } ?? 0
    }

    /// How many more jobs may start at `now` with `running` running (`Int.max`: unlimited):
    /// below the concurrency, the rate's count in its period and its burst in its pace.
    func room(running: Int, at now: Date) -> Int {
        let rate = limit.rate.map { rate in
            min(rate.count - starts(within: rate.period, before: now), rate.burst - starts(within: rate.paceWindow, before: now))
        }
        return min(limit.concurrency.map { $0 - running } ?? .max, rate ?? .max)
    }

    /// When the window lets a job start again, if it is full (its count in its period, or its
    /// burst in its pace).
    var opening: Date? {
        guard let rate = limit.rate else { return nil }
        let period = starts.count >= rate.count ? starts[starts.count - rate.count].addingTimeInterval(rate.period.seconds) : nil
        let pace = starts.count >= rate.burst ? starts[starts.count - rate.burst].addingTimeInterval(rate.paceWindow.seconds) : nil
        return [period, pace].compactMap { $0 }.max()
    }
}

/// The limit rules of the schema (`procrastinate_swift_fetch_limited_jobs_v1` and its
/// neighbours), one job at a time: a job starts only when its queue is not paused and its
/// queue's, task's and key's limits all have room.
extension InMemoryConnector {
    /// The limits that apply to `job`.
    private func targets(of job: Job) -> [LimitTarget] {
        [.queue(job.queue), .task(job.taskName)] + (jobKeys[job.id].map { [.key($0)] } ?? [])
    }

    private func running(_ target: LimitTarget) -> Int {
        jobs.values.count { $0.status == .doing && targets(of: $0).contains(target) }
    }

    private func waiting(_ target: LimitTarget) -> [Job] {
        jobs.values.filter { $0.status == .todo && targets(of: $0).contains(target) }
    }

    /// Whether every limit of `job` has room at `now`.
    func hasRoom(for job: Job, at now: Date) -> Bool {
        targets(of: job).allSatisfy { target in
            limits[target].map { $0.room(running: running(target), at: now) > 0 } ?? true
        }
    }

    /// Whether a concurrency limit counts `job` while it runs: its end frees room.
    func countsAgainstConcurrency(_ job: Job) -> Bool {
        targets(of: job).contains { limits[$0]?.limit.concurrency != nil }
    }

    /// Records `job`'s start in the windows of its rate limits.
    func recordStart(of job: Job, at now: Date) {
        for target in targets(of: job) {
            guard let window = limits[target], let rate = window.limit.rate else { continue }
            limits[target]?.starts = Array((window.starts.filter { $0 > now.addingTimeInterval(-rate.period.seconds) } + [now]).suffix(rate.count))
        }
    }

    /// When the full rate windows of `queues`, `taskNames` (nil: any) and every key open.
    func windowOpenings(queues: [String]?, taskNames: [String]?) -> [Date] {
        limits.compactMap { target, window in
            switch target {
            case .queue(let name) where queues.map({ !$0.contains(name) }) ?? false: nil
            case .task(let name) where taskNames.map({ !$0.contains(name) }) ?? false: nil
            default: window.opening
            }
        }
    }

    public func setLimit(_ limit: Limit?, for target: LimitTarget) throws {
        if case .queue(let name) = target { try InvalidQueueName.check(name) }
        guard let limit else {
            if case .key(let key) = target {
                let naming = jobKeys.values.count { $0 == key }
                if naming > 0 { throw ConfigurationError.keyNamedByJobs(key, count: naming) }
            }
            limits[target] = nil
            return
        }
        try limit.check(for: "\(target.scope) '\(target.name)'")
        limits[target, default: LimitWindow(limit: limit)].limit = limit
    }

    public func limitUsage() -> [LimitUsage] {
        let now = clock()
        return limits.compactMap { target, window in
            let (running, waiting) = (running(target), waiting(target).count)
            return LimitUsage(target: target, limit: window.limit, running: running, waiting: waiting, recentStarts: window.recentStarts(at: now))
        }
        .sorted { $0.target < $1.target }
    }

    public func jobsDelayedByLimits(queues: [String]?, taskNames: [String]?) -> Int {
        let now = clock()
        return limits.reduce(0) { total, entry in
            guard entry.value.room(running: running(entry.key), at: now) <= 0 else { return total }
            let delayed = waiting(entry.key).count { job in
                (queues?.contains(job.queue) ?? true) && (taskNames?.contains(job.taskName) ?? true)
            }
            return total + min(delayed, 10_000)
        }
    }

    public func pauseQueue(_ name: String) throws -> Bool {
        try InvalidQueueName.check(name)
        guard pausedSince[name] == nil else { return false }
        pausedSince[name] = clock()
        return true
    }

    public func resumeQueue(_ name: String) -> Bool {
        guard pausedSince.removeValue(forKey: name) != nil else { return false }
        notify(.queueResumed(queue: name), queue: name)
        return true
    }

    public func pausedQueues() -> [PausedQueue] {
        pausedSince.map { PausedQueue(name: $0.key, since: $0.value) }.sorted { $0.name < $1.name }
    }
}
