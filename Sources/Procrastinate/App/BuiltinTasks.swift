import Logging
/// The tasks every ``App`` registers, as Python Procrastinate's every app does, so that jobs
/// deferred to them from any language run on a Swift worker too.
public enum BuiltinTasks {
    /// `builtin:procrastinate.builtin_tasks.remove_old_jobs`: deletes the jobs that ended more
    /// than `max_hours` ago (by their latest event; jobs without events stay): succeeded ones,
    /// and failed, cancelled or aborted ones when asked; of one queue when `queue` is given.
    /// Usually deferred by a periodic task, in queue `builtin`.
    public static let removeOldJobs = "builtin:procrastinate.builtin_tasks.remove_old_jobs"

    /// The other name jobs of ``removeOldJobs`` carry (Python's task path).
    public static let removeOldJobsAlias = "procrastinate.builtin_tasks.remove_old_jobs"

    /// The arguments of ``removeOldJobs``, with Python's names.
    public struct RemoveOldJobs: Codable, Sendable, Hashable {
        /// Jobs whose latest event is older than this many hours are deleted.
        public var max_hours: Double
        /// Only this queue's jobs (nil: every queue).
        public var queue: String?
        /// Delete failed jobs too.
        public var remove_failed: Bool?
        /// Delete cancelled jobs too.
        public var remove_cancelled: Bool?
        /// Delete aborted jobs too.
        public var remove_aborted: Bool?

        /// Arguments; succeeded jobs are always deleted.
        public init(
            max_hours: Double, queue: String? = nil, remove_failed: Bool? = nil, remove_cancelled: Bool? = nil,
            remove_aborted: Bool? = nil
        ) {
            self.max_hours = max_hours
            self.queue = queue
            self.remove_failed = remove_failed
            self.remove_cancelled = remove_cancelled
            self.remove_aborted = remove_aborted
        }
    }

    /// Their names and aliases.
    public static let names = [removeOldJobs, removeOldJobsAlias, retention]

    /// Whether `name` is one of these tasks' names or aliases.
    public static func contains(_ name: String) -> Bool {
        names.contains(name)
    }

    /// Registers them on `app`, whose connector their jobs use.
    static func register(on app: App) {
        let manager = app.jobManager
        let logger = app.logger
        _ = try? app.task(removeOldJobs, aliases: [removeOldJobsAlias], queue: "builtin") { (arguments: RemoveOldJobs) in
            let deleted = try await manager.deleteOldJobs(
                olderThan: arguments.max_hours, queue: arguments.queue, includeFailed: arguments.remove_failed ?? false,
                includeCancelled: arguments.remove_cancelled ?? false, includeAborted: arguments.remove_aborted ?? false
            )
            logger.info("Deleted \(deleted) old jobs", metadata: ["action": "remove_old_jobs"])
        }
        registerRetention(on: app)
    }
}
