import Foundation
import Procrastinate
import Synchronization

/// A connector that hands out `jobs` no-op jobs and counts their outcomes, at no cost of its
/// own: a worker running on it shows the worker's own cost per job. Operations the worker
/// does not use for no-op jobs throw.
final class StubConnector: Connector {
    private struct State {
        var next = 0
        var succeeded = 0
    }

    struct Unsupported: Error {}

    let endpoint = "stub"
    private let jobs: [Job]
    private let state = Mutex(State())

    init(jobs count: Int, taskName: String) {
        jobs = (0..<count).map { Job(id: Int64($0 + 1), queue: "default", taskName: taskName, arguments: #"{"i": \#($0)}"#, status: .doing) }
    }

    /// How many outcomes were `succeeded`.
    var succeeded: Int { state.withLock { $0.succeeded } }

    func nextScheduledJob(queues: [String]?, taskNames: [String]?, scheduledAfter after: Date) async throws -> Duration? { nil }

    func fetchJobs(queues: [String]?, workerID: Int64?, limit: Int, taskNames: [String]?) async throws -> [Job] {
        let range = state.withLock { state in
            defer { state.next = min(state.next + limit, jobs.count) }
            return state.next..<min(state.next + limit, jobs.count)
        }
        return Array(jobs[range])
    }

    func fetchJob(queues: [String]?, workerID: Int64?) async throws -> Job? {
        try await fetchJobs(queues: queues, workerID: workerID, limit: 1).first
    }

    func finishJobs(_ outcomes: [JobOutcome]) async throws -> [Int64] {
        let succeeded = outcomes.count { $0.status == .succeeded }
        state.withLock { $0.succeeded += succeeded }
        return []
    }

    func finishJob(id: Int64, status: JobStatus, deleteJob: Bool) async throws {
        _ = try await finishJobs([JobOutcome(jobID: id, status: status, deleteJob: deleteJob)])
    }

    func registerWorker(_ registration: WorkerRegistration) async throws -> Int64 { 1 }
    func unregisterWorker(id: Int64) async throws {}
    func updateHeartbeat(workerID: Int64) async throws {}
    func heartbeat(
        workerID: Int64, holding held: [HeldJob], registration: WorkerRegistration, strayGrace: Duration
    ) async throws -> HeartbeatReply {
        HeartbeatReply(registeredAgain: false, lostJobIDs: [], releasedJobIDs: [])
    }
    func pruneStalledWorkers(olderThan seconds: Double) async throws -> [Int64] { [] }
    func jobIDsToAbort(queue: String?) async throws -> [Int64] { [] }

    func deferJobs(_ jobs: [NewJob]) async throws -> [Int64] { throw Unsupported() }
    func deferPeriodicJob(_ job: NewJob, periodicID: String, timestamp: Int64) async throws -> Int64? { throw Unsupported() }
    func retryJob(id: Int64, at date: Date, priority: Int?, queue: String?, lock: String?) async throws { throw Unsupported() }
    func recoverStalledJob(
        _ job: Job, staleAfter seconds: Double, excludingWorker excludedWorkerID: Int64?, decision: RetryDecision?
    ) async throws -> Bool { throw Unsupported() }
    func cancelJob(id: Int64, abort: Bool, deleteJob: Bool) async throws -> Int64? { throw Unsupported() }
    func deleteJob(id: Int64) async throws -> Bool { throw Unsupported() }
    func jobStatus(id: Int64) async throws -> JobStatus? { throw Unsupported() }
    func listJobs(_ filter: JobFilter) async throws -> [Job] { throw Unsupported() }
    func jobErrors(ids: [Int64]) async throws -> [Int64: [JobError]] { throw Unsupported() }
    func countJobs(by grouping: JobGrouping, _ filter: JobFilter) async throws -> [JobCounts] { throw Unsupported() }
    func deleteOldJobs(olderThan seconds: Double, statuses: [JobStatus], queue: String?, after afterID: Int64, limit: Int) async throws -> PruneBatch {
        throw Unsupported()
    }
    func stalledJobs(secondsSinceHeartbeat: Double, queue: String?, taskName: String?) async throws -> [Job] { throw Unsupported() }
    func listWorkers() async throws -> [WorkerInfo] { throw Unsupported() }
    func isSchemaApplied() async throws -> Bool { true }
    func setLimit(_ limit: Limit?, for target: LimitTarget) async throws { throw Unsupported() }
    func limitUsage() async throws -> [LimitUsage] { [] }
    func jobsDelayedByLimits(queues: [String]?, taskNames: [String]?) async throws -> Int { 0 }
    func pauseQueue(_ name: String) async throws -> Bool { throw Unsupported() }
    func resumeQueue(_ name: String) async throws -> Bool { throw Unsupported() }
    func pausedQueues() async throws -> [PausedQueue] { [] }
}
