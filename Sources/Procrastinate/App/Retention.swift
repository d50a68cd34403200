import Logging

extension BuiltinTasks {
    /// `builtin:procrastinate_swift.retention`: deletes the finished jobs older than a
    /// retention, by status; what ``App/retain(succeeded:failed:cancelled:aborted:cron:queue:)``
    /// schedules.
    public static let retention = "builtin:procrastinate_swift.retention"

    /// The arguments of ``retention``.
    public struct RetentionArguments: Codable, Sendable, Hashable {
        /// The tick that deferred the job (seconds since 1970).
        public var timestamp: Int?
        /// How long jobs of each final status are kept, in seconds, by status name.
        public var keep_seconds: [String: Double]

        /// Arguments keeping jobs of each status of `keepSeconds` that long.
        public init(timestamp: Int? = nil, keep_seconds: [String: Double]) {
            self.timestamp = timestamp
            self.keep_seconds = keep_seconds
        }
    }

    /// Registers ``retention`` on `app`.
    static func registerRetention(on app: App) {
        let manager = app.jobManager
        let logger = app.logger
        _ = try? app.task(retention, queue: "builtin") { (arguments: RetentionArguments) in
            for (name, seconds) in arguments.keep_seconds.sorted(by: { $0.key < $1.key }) {
                guard let status = JobStatus(rawValue: name) else {
                    throw InvalidPrune(reason: "unknown status '\(name)' in the retention's arguments")
                }
                let deleted = try await manager.prune(statuses: [status], olderThan: .seconds(seconds))
                logger.info(
                    "Deleted \(deleted) \(name) jobs older than \(Retention.describe(seconds: seconds))",
                    metadata: ["action": "retention", "status": "\(name)", "deleted": "\(deleted)"]
                )
            }
        }
    }
}

/// How long finished jobs are kept.
enum Retention {
    /// `seconds` in the largest whole unit: `7d`, `12h`, `30m`, `45s`.
    static func describe(seconds: Double) -> String {
        for (unit, size) in [("d", 86_400.0), ("h", 3_600.0), ("m", 60.0)] where seconds >= size && seconds.truncatingRemainder(dividingBy: size) == 0 {
            return "\(Int(seconds / size))\(unit)"
        }
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
    }
}

extension App {
    /// Keeps the tables bounded: deletes, on the schedule `cron` (hourly by default, at a
    /// minute of the task's own), the jobs that ended more than the given time ago, with their
    /// events; statuses left nil are kept forever. Every tick runs once across all replicas
    /// (periodic ticks are deduplicated), on a worker of queue `builtin` (or `queue`), and
    /// deletes in batches of 1,000 rows, each its own short transaction.
    ///
    /// ```swift
    /// try app.retain(succeeded: .days(7), failed: .days(30))
    /// ```
    ///
    /// - Throws: ``InvalidPrune`` when no status is given or a time is negative; a cron
    ///   error for a bad `cron`.
    public func retain(
        succeeded: Duration? = nil, failed: Duration? = nil, cancelled: Duration? = nil, aborted: Duration? = nil,
        cron: String = "H * * * *", queue: String? = nil
    ) throws {
        let kept: [(JobStatus, Duration?)] = [(.succeeded, succeeded), (.failed, failed), (.cancelled, cancelled), (.aborted, aborted)]
        var seconds: [String: JSONValue] = [:]
        for case (let status, let age?) in kept {
            guard age >= .zero else { throw InvalidPrune(reason: "the retention of \(status.rawValue) jobs is negative (\(age))") }
            seconds[status.rawValue] = .double(Double(age.components.seconds) + Double(age.components.attoseconds) / 1e18)
        }
        guard !seconds.isEmpty else { throw InvalidPrune(reason: "a retention needs at least one status (succeeded, failed, cancelled, aborted)") }
        guard let definition = task(named: BuiltinTasks.retention) else { preconditionFailure("every app registers the retention task") }
        try periodic(
            TaskHandle<BuiltinTasks.RetentionArguments>(definition: definition), cron: cron, queue: queue,
            extraArguments: ["keep_seconds": .object(seconds)]
        )
    }
}

extension Duration {
    /// `days` days of 24 hours.
    public static func days(_ days: Int) -> Duration { .seconds(days * 86_400) }
    /// `hours` hours.
    public static func hours(_ hours: Int) -> Duration { .seconds(hours * 3_600) }
}
