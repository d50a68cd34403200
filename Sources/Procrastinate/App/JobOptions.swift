public import Foundation

/// How jobs are deferred: queue, priority, lock, queueing lock, schedule and extra arguments,
/// each unset (nil) or given. One value holds them wherever they are declared (a task's
/// defaults, ``TaskHandle/configure(_:)``, a periodic task, a crontab line, the command
/// line), and one rule merges them: ``overridden(by:)``, later declarations winning (the
/// task's defaults, then `configure`, then the periodic schedule's own).
///
/// A task's timeout is not among them: the schema has no column for a job's own timeout, so
/// it stays a ``TaskOptions`` value.
public struct JobOptions: Sendable, Hashable {
    /// The queue.
    public var queue: String?
    /// Higher runs first.
    public var priority: Int?
    /// Jobs sharing a lock run one at a time, in order.
    public var lock: String?
    /// At most one waiting job per queueing lock.
    public var queueingLock: String?
    /// Not before this time (give this or ``scheduleIn``).
    public var scheduleAt: Date?
    /// Not before this long after the defer.
    public var scheduleIn: Duration?
    /// Arguments merged into each job's; a job's own arguments win.
    public var extraArguments: [String: JSONValue]
    /// The limit key of the jobs, over the one their task computes (the task's
    /// ``TaskOptions/keyLimit`` applies to it).
    public var limitKey: String?

    /// Options; unset ones come from what they override.
    public init(
        queue: String? = nil, priority: Int? = nil, lock: String? = nil, queueingLock: String? = nil,
        scheduleAt: Date? = nil, scheduleIn: Duration? = nil, extraArguments: [String: JSONValue] = [:], limitKey: String? = nil
    ) {
        (self.queue, self.priority, self.lock, self.queueingLock) = (queue, priority, lock, queueingLock)
        (self.scheduleAt, self.scheduleIn, self.extraArguments) = (scheduleAt, scheduleIn, extraArguments)
        self.limitKey = limitKey
    }

    /// The priorities a job may have: the database keeps them as 32-bit integers.
    public static let priorities = Int(Int32.min)...Int(Int32.max)

    /// Throws ``ConfigurationError`` naming `subject` unless `priority` is in ``priorities``.
    static func check(priority: Int, of subject: String) throws(ConfigurationError) {
        guard priorities.contains(priority) else {
            throw ConfigurationError(
                description: "the priority of \(subject) is \(priority); it must be from \(priorities.lowerBound) to \(priorities.upperBound)"
            )
        }
    }

    /// These options, with `later`'s wherever it gives one (extra arguments merged key by key,
    /// `later`'s winning; a schedule replaces a schedule of either kind).
    public func overridden(by later: JobOptions) -> JobOptions {
        var merged = self
        merged.queue = later.queue ?? queue
        merged.priority = later.priority ?? priority
        merged.lock = later.lock ?? lock
        merged.queueingLock = later.queueingLock ?? queueingLock
        merged.limitKey = later.limitKey ?? limitKey
        if later.scheduleAt != nil || later.scheduleIn != nil {
            (merged.scheduleAt, merged.scheduleIn) = (later.scheduleAt, later.scheduleIn)
        }
        merged.extraArguments.merge(later.extraArguments) { _, later in later }
        return merged
    }

    /// The row of a job of `taskName` with `arguments` (encoded over ``extraArguments``),
    /// deferred at `now`; unset values are Procrastinate's defaults (queue `default`,
    /// priority 0).
    ///
    /// - Throws: ``ConfigurationError`` for a schedule given both ways or a priority out of
    ///   ``priorities``, ``InvalidQueueName``,
    ///   ``ArgumentsError`` when the arguments do not encode as a JSON object.
    func newJob(taskName: String, arguments: some Encodable, now: Date = Date()) throws -> NewJob {
        if scheduleAt != nil && scheduleIn != nil {
            throw ConfigurationError(description: "give scheduleAt or scheduleIn, not both (task '\(taskName)')")
        }
        if let priority { try Self.check(priority: priority, of: "task '\(taskName)'") }
        let job = NewJob(
            queue: queue ?? TaskOptions.defaultQueue, taskName: taskName, priority: priority ?? 0, lock: lock,
            queueingLock: queueingLock, arguments: try ArgumentsCoding.encode(arguments, over: extraArguments, taskName: taskName),
            scheduledAt: scheduleAt ?? scheduleIn.map { now.addingTimeInterval($0.seconds) }
        )
        try InvalidQueueName.check(job.queue)
        return job
    }
}
