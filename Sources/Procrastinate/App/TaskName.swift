public import Foundation

/// A task's name typed by its arguments: defers jobs from anywhere the app is, without passing
/// a ``TaskHandle`` around, and from a service that does not run the task at all.
///
/// ```swift
/// enum Tasks {
///     static let sendEmail = TaskName<SendEmail>("send_email")
/// }
///
/// // Where the worker runs the task:
/// _ = try app.task(Tasks.sendEmail.name, queue: "emails") { (email: SendEmail) in … }
///
/// // Anywhere else, a request handler for one:
/// try await app.defer(Tasks.sendEmail, SendEmail(to: "ada@example.com", subject: "Welcome"))
/// ```
///
/// When the app has the task registered, its defaults (queue, priority, lock) apply and the
/// arguments are checked against its argument type before anything is inserted.
public struct TaskName<Arguments: Codable & Sendable>: Sendable, Hashable {
    /// The name stored in each job (`procrastinate_jobs.task_name`).
    public let name: String

    /// The task called `name`.
    public init(_ name: String) {
        self.name = name
    }
}

extension App {
    /// Options for the next jobs of `task`; unset ones are its registered defaults, if any.
    public func configure<Arguments>(
        _ task: TaskName<Arguments>, queue: String? = nil, priority: Int? = nil, lock: String? = nil,
        queueingLock: String? = nil, scheduleAt: Date? = nil, scheduleIn: Duration? = nil,
        extraArguments: [String: JSONValue] = [:]
    ) -> JobDeferrer<Arguments> {
        configure(task, JobOptions(
            queue: queue, priority: priority, lock: lock, queueingLock: queueingLock, scheduleAt: scheduleAt,
            scheduleIn: scheduleIn, extraArguments: extraArguments
        ))
    }

    /// Options for the next jobs of `task`, over its registered defaults, if any.
    public func configure<Arguments>(_ task: TaskName<Arguments>, _ options: JobOptions) -> JobDeferrer<Arguments> {
        JobDeferrer(target: .name(self.task(named: task.name)?.name ?? task.name, app: self), options: options)
    }

    /// Defers one job of `task`; returns its id.
    ///
    /// - Throws: what ``JobDeferrer/defer(_:)`` throws.
    @discardableResult
    public func `defer`<Arguments>(_ task: TaskName<Arguments>, _ arguments: Arguments) async throws -> Int64 {
        try await configure(task).defer(arguments)
    }
}
