import Synchronization

extension App {
    /// Limits the jobs of `queue` together, across every Swift worker on the database. A
    /// worker of this app writes it to the database when it starts (as it writes its tasks'
    /// limits); `procrastinate limits` shows it, and ``JobManager/setLimit(_:for:)`` changes
    /// or removes it without a deployment.
    ///
    /// ```swift
    /// try app.limit(queue: "reports", Limit(concurrency: 2))
    /// ```
    ///
    /// - Throws: ``InvalidQueueName``, or ``ConfigurationError`` for a limit out of range.
    public func limit(queue: String, _ limit: Limit) throws {
        try InvalidQueueName.check(queue)
        try limit.check(for: "queue '\(queue)'")
        queueLimits.withLock { $0[queue] = limit }
    }

    /// The limits this app declares: its queues' (``limit(queue:_:)``) and its tasks'
    /// (``TaskOptions/limit``), by target.
    public var declaredLimits: [(target: LimitTarget, limit: Limit)] {
        let queues = queueLimits.withLock { $0 }.map { (target: LimitTarget.queue($0.key), limit: $0.value) }
        let tasks = tasks.compactMap { task in task.options.limit.map { (target: LimitTarget.task(task.name), limit: $0) } }
        return (queues + tasks).sorted { $0.target < $1.target }
    }
}
