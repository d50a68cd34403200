public import Foundation
public import PostgresNIO

/// Arguments of a task that takes none.
public struct NoArguments: Codable, Sendable, Hashable {
    /// No arguments.
    public init() {}
}

/// A registered task, typed by its arguments: what application code defers jobs with.
///
/// ```swift
/// let id = try await sendEmail.defer(SendEmail(to: "a@b.c", subject: "Hi"))
/// try await sendEmail.configure(lock: "user:42", scheduleIn: .seconds(60)).defer(email)
/// ```
public struct TaskHandle<Arguments: Codable & Sendable>: Sendable {
    /// The task.
    public let definition: TaskDefinition

    /// The task's name.
    public var name: String { definition.name }

    /// Options for the next jobs; unset ones are the task's defaults.
    ///
    /// - Parameters:
    ///   - queue: The queue (default: the task's).
    ///   - priority: Higher runs first (default: the task's).
    ///   - lock: Jobs sharing a lock run one at a time, in order.
    ///   - queueingLock: At most one waiting job per queueing lock.
    ///   - scheduleAt: Not before this time (give this or `scheduleIn`).
    ///   - scheduleIn: Not before this long from now.
    ///   - extraArguments: Arguments merged into each job's; the deferred arguments win.
    ///   - limitKey: The jobs' limit key, over the one the task computes (the task's
    ///     ``TaskOptions/keyLimit`` applies to it).
    public func configure(
        queue: String? = nil, priority: Int? = nil, lock: String? = nil, queueingLock: String? = nil, scheduleAt: Date? = nil,
        scheduleIn: Duration? = nil, extraArguments: [String: JSONValue] = [:], limitKey: String? = nil
    ) -> JobDeferrer<Arguments> {
        configure(JobOptions(
            queue: queue, priority: priority, lock: lock, queueingLock: queueingLock, scheduleAt: scheduleAt,
            scheduleIn: scheduleIn, extraArguments: extraArguments, limitKey: limitKey
        ))
    }

    /// Options for the next jobs, over the task's defaults.
    public func configure(_ options: JobOptions) -> JobDeferrer<Arguments> {
        JobDeferrer(target: .task(definition), options: options)
    }

    /// Defers one job; returns its id.
    ///
    /// - Throws: ``AlreadyEnqueued`` when the task's queueing lock is taken, ``UnboundTask``
    ///   for a blueprint not added to an app yet.
    @discardableResult
    public func `defer`(_ arguments: Arguments) async throws -> Int64 {
        try await configure().defer(arguments)
    }

    /// Defers several jobs in one statement, all or nothing; returns their ids.
    @discardableResult
    public func batchDefer(_ arguments: [Arguments]) async throws -> [Int64] {
        try await configure().batchDefer(arguments)
    }

    /// Defers one job on `connection`, inside the caller's transaction: the job exists only
    /// if that transaction commits.
    @discardableResult
    public func `defer`(_ arguments: Arguments, on connection: PostgresConnection) async throws -> Int64 {
        try await configure().defer(arguments, on: connection)
    }
}

extension TaskHandle where Arguments == NoArguments {
    /// Defers one job of a task without arguments.
    @discardableResult
    public func `defer`() async throws -> Int64 {
        try await configure().defer(NoArguments())
    }
}
