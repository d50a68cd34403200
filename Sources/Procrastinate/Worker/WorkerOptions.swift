import Foundation

/// How a worker runs; the defaults are Procrastinate's.
public struct WorkerOptions: Sendable {
    /// What happens to a job's row when it ends.
    public enum DeleteJobs: String, Sendable, CaseIterable {
        /// Keep every row, with its final status.
        case never
        /// Delete the rows of succeeded jobs.
        case successful
        /// Delete every finished row.
        case always
    }

    /// Queues to fetch from (nil: every queue).
    public var queues: [String]?
    /// The worker's name, in logs and job contexts.
    public var name: String
    /// Jobs run at the same time, at most.
    public var concurrency: Int
    /// False: stop as soon as no job can be fetched (and the running ones ended).
    public var wait: Bool
    /// Longest sleep between two fetches when idle (notifications wake it sooner).
    public var fetchJobPollingInterval: Duration
    /// While jobs are waiting, how long a freed slot may wait for others to free up so that
    /// they are claimed in one round trip (never longer than a fetch takes; zero: at once).
    /// Fewer, fuller fetches save the database and the worker CPU; the wait costs a job that
    /// long at most.
    public var fetchCoalescingWindow: Duration
    /// How often running jobs are checked for abort requests (notifications are sooner).
    public var abortJobPollingInterval: Duration
    /// Whether to LISTEN for new jobs and abort requests.
    public var listenNotify: Bool
    /// What happens to finished jobs' rows.
    public var deleteJobs: DeleteJobs
    /// After a stop request, how long running jobs may finish before they are aborted (nil:
    /// as long as they take).
    public var shutdownGracefulTimeout: Duration?
    /// Values given to every job's context.
    public var additionalContext: [String: String]
    /// How often the worker records its heartbeat.
    public var updateHeartbeatInterval: Duration
    /// At start, workers silent for longer are removed.
    public var stalledWorkerTimeout: Duration
    /// Running jobs whose worker gave no sign of life for this long are recovered (see
    /// ``stalledJobs``); nil turns recovery off. A worker recovers only once it has itself been
    /// in touch with the database for this long, so that an outage does not make live workers
    /// look stalled.
    public var stalledJobRecoveryThreshold: Duration?
    /// What recovery does with a stalled job whose task has no retry strategy, or that this
    /// worker does not know (a task with a strategy follows it, with ``JobStalled`` as the error).
    public var stalledJobs: StalledJobPolicy
    /// Claim jobs of tasks this worker does not know too, and fail them as Python Procrastinate
    /// does; by default a worker claims only the jobs of its app's tasks (names and aliases),
    /// and leaves the others to the workers that know them.
    public var claimUnknownTasks: Bool
    /// Middleware around every job, outermost first.
    public var middleware: [any JobMiddleware]
    /// Whether this worker defers the ticks of the app's periodic tasks (every worker may:
    /// the database keeps each tick once).
    public var runsPeriodicDeferrer: Bool
    /// At start, missed ticks older than this are not deferred.
    public var periodicMaxDelay: Duration
    /// Which missed ticks are deferred at start.
    public var periodicCatchUp: PeriodicCatchUp
    /// The clock of the periodic deferrer.
    public var periodicClock: any WallClock
    /// The clock the worker reads for all its timing (see ``WorkerClock``).
    public var clock: any WorkerClock

    /// Options; every one has Procrastinate's default (`fetchCoalescingWindow`, `stalledJobs`
    /// and `claimUnknownTasks` are ours).
    public init(
        queues: [String]? = nil, name: String = "worker", concurrency: Int = 1, wait: Bool = true,
        fetchJobPollingInterval: Duration = .seconds(5), fetchCoalescingWindow: Duration = .microseconds(250),
        abortJobPollingInterval: Duration = .seconds(5),
        listenNotify: Bool = true, deleteJobs: DeleteJobs = .never, shutdownGracefulTimeout: Duration? = nil,
        additionalContext: [String: String] = [:], updateHeartbeatInterval: Duration = .seconds(10),
        stalledWorkerTimeout: Duration = .seconds(30), stalledJobRecoveryThreshold: Duration? = .seconds(300),
        middleware: [any JobMiddleware] = [], runsPeriodicDeferrer: Bool = true, periodicMaxDelay: Duration = .seconds(600),
        periodicCatchUp: PeriodicCatchUp = .latest, periodicClock: any WallClock = SystemWallClock(),
        stalledJobs: StalledJobPolicy = .retry(upTo: 5), claimUnknownTasks: Bool = false,
        clock: any WorkerClock = SystemWorkerClock()
    ) {
        self.queues = queues
        self.name = name
        self.concurrency = concurrency
        self.wait = wait
        self.fetchJobPollingInterval = fetchJobPollingInterval
        self.fetchCoalescingWindow = fetchCoalescingWindow
        self.abortJobPollingInterval = abortJobPollingInterval
        self.listenNotify = listenNotify
        self.deleteJobs = deleteJobs
        self.shutdownGracefulTimeout = shutdownGracefulTimeout
        self.additionalContext = additionalContext
        self.updateHeartbeatInterval = updateHeartbeatInterval
        self.stalledWorkerTimeout = stalledWorkerTimeout
        self.stalledJobRecoveryThreshold = stalledJobRecoveryThreshold
        self.middleware = middleware
        self.runsPeriodicDeferrer = runsPeriodicDeferrer
        self.periodicMaxDelay = periodicMaxDelay
        self.periodicCatchUp = periodicCatchUp
        self.periodicClock = periodicClock
        self.stalledJobs = stalledJobs
        self.claimUnknownTasks = claimUnknownTasks
        self.clock = clock
    }
}

/// What stalled-job recovery does with a job whose task has no retry strategy: every deferred
/// job runs to an outcome at least once, so by default it runs again.
public enum StalledJobPolicy: Sendable, Hashable {
    /// Retry it at once, counting an attempt, while it has had fewer than `retries` retries
    /// (a job that kills every worker that runs it fails in the end); then fail it.
    case retry(upTo: Int)
    /// Fail it.
    case fail
}

/// Code around the run of a job: tracing, logging, database sessions, rate limits…
///
/// ```swift
/// struct Timing: JobMiddleware {
///     func run(_ context: JobContext, next: (JobContext) async throws -> Void) async throws {
///         let start = ContinuousClock.now
///         defer { print(context.job.taskName, ContinuousClock.now - start) }
///         try await next(context)
///     }
/// }
/// ```
public protocol JobMiddleware: Sendable {
    /// Runs the job by calling `next`, with whatever it adds around it.
    func run(_ context: JobContext, next: (JobContext) async throws -> Void) async throws
}
