import Synchronization

/// The tasks of an app or a blueprint, by name and alias.
final class TaskRegistry: Sendable {
    private let storage = Mutex<(byName: [String: TaskDefinition], ordered: [TaskDefinition])>(([:], []))

    /// Adds `task` under its name and aliases.
    func add(_ task: TaskDefinition) throws(TaskAlreadyRegistered) {
        let names = [task.name] + task.aliases
        try storage.withLock { (storage) throws(TaskAlreadyRegistered) in
            if let taken = names.first(where: { storage.byName[$0] != nil }) {
                throw TaskAlreadyRegistered(name: taken)
            }
            for name in names { storage.byName[name] = task }
            storage.ordered.append(task)
        }
    }

    /// The names (and aliases) of `tasks` that are taken here, with `namespace` applied.
    func conflicts(with tasks: [TaskDefinition], namespace: String?) -> String? {
        storage.withLock { storage in
            for task in tasks {
                for name in [task.name] + task.aliases {
                    let full = namespace.map { "\($0):\(name)" } ?? name
                    if storage.byName[full] != nil { return full }
                }
            }
            return nil
        }
    }

    func task(named name: String) -> TaskDefinition? {
        storage.withLock { $0.byName[name] }
    }

    var names: [String] {
        storage.withLock { $0.byName.keys.sorted() }
    }

    var tasks: [TaskDefinition] {
        storage.withLock { $0.ordered }
    }
}

/// Something tasks are registered on: an ``App`` or a ``Blueprint``.
public protocol TaskRegistrar: Sendable {
    /// Registers a task.
    ///
    /// - Throws: ``TaskAlreadyRegistered`` when its name or an alias is taken.
    func register(_ task: TaskDefinition) throws
}

extension TaskRegistrar {
    /// Registers a task whose body receives its arguments and the job's context.
    ///
    /// ```swift
    /// let sendEmail = try app.task("send_email", queue: "emails") { (email: SendEmail, context: JobContext) in
    ///     try await Mailer.send(email)
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - name: The task's name, stored in each job (`procrastinate_jobs.task_name`).
    ///   - aliases: Other names its jobs may carry, for renamed tasks.
    ///   - queue: The default queue of its jobs.
    ///   - priority: The default priority of its jobs (higher runs first).
    ///   - lock: The default lock of its jobs.
    ///   - queueingLock: The default queueing lock of its jobs.
    ///   - retry: When a failed job runs again (nil: never).
    ///   - timeout: How long a job may run before it is cancelled.
    ///   - middleware: Code around this task's jobs (inside the worker's middleware).
    ///   - limit: The limit of all its jobs together, across every Swift worker.
    ///   - keyLimit: The limit of the jobs of each limit key.
    ///   - limitKey: The limit key of a job, from its arguments (nil: none).
    ///   - body: Runs a job: its decoded arguments and its context.
    /// - Throws: ``TaskAlreadyRegistered`` when the name or an alias is taken,
    ///   ``InvalidQueueName`` for a queue name PostgreSQL cannot notify on,
    ///   ``ConfigurationError`` for a limit out of range or a `limitKey` without `keyLimit`.
    public func task<Arguments: Codable & Sendable>(
        _ name: String, aliases: [String] = [], queue: String = "default", priority: Int = 0, lock: String? = nil,
        queueingLock: String? = nil, retry: (any RetryPolicy)? = nil, timeout: Duration? = nil,
        middleware: [any JobMiddleware] = [], limit: Limit? = nil, keyLimit: Limit? = nil,
        limitKey: (@Sendable (Arguments) -> String?)? = nil,
        _ body: @escaping @Sendable (Arguments, JobContext) async throws -> Void
    ) throws -> TaskHandle<Arguments> {
        let options = TaskOptions(
            jobs: JobOptions(queue: queue, priority: priority, lock: lock, queueingLock: queueingLock), retry: retry,
            timeout: timeout, middleware: middleware, limit: limit, keyLimit: keyLimit
        )
        return try task(name, aliases: aliases, options: options, limitKey: limitKey, body)
    }

    /// Registers a task with its options in one value: its jobs' defaults (any ``JobOptions``)
    /// and how it runs; `limitKey` computes a job's limit key from its arguments.
    ///
    /// - Throws: ``TaskAlreadyRegistered`` when the name or an alias is taken,
    ///   ``InvalidQueueName`` for a queue name PostgreSQL cannot notify on,
    ///   ``ConfigurationError`` for a limit out of range or a `limitKey` without a key limit.
    public func task<Arguments: Codable & Sendable>(
        _ name: String, aliases: [String] = [], options: TaskOptions, limitKey: (@Sendable (Arguments) -> String?)? = nil,
        _ body: @escaping @Sendable (Arguments, JobContext) async throws -> Void
    ) throws -> TaskHandle<Arguments> {
        if let queue = options.jobs.queue { try InvalidQueueName.check(queue) }
        try options.limit?.check(for: "task '\(name)'")
        try options.keyLimit?.check(for: "the keys of task '\(name)'")
        if limitKey != nil && options.keyLimit == nil {
            throw ConfigurationError(description: "task '\(name)' computes a limit key but declares no keyLimit")
        }
        let definition = TaskDefinition(
            name: name, aliases: aliases, options: options, arguments: Arguments.self, limitKey: limitKey, body: body
        )
        try register(definition)
        return TaskHandle(definition: definition)
    }

    /// Registers a task whose body receives its arguments only.
    public func task<Arguments: Codable & Sendable>(
        _ name: String, aliases: [String] = [], queue: String = "default", priority: Int = 0, lock: String? = nil,
        queueingLock: String? = nil, retry: (any RetryPolicy)? = nil, timeout: Duration? = nil,
        middleware: [any JobMiddleware] = [], limit: Limit? = nil, keyLimit: Limit? = nil,
        limitKey: (@Sendable (Arguments) -> String?)? = nil,
        _ body: @escaping @Sendable (Arguments) async throws -> Void
    ) throws -> TaskHandle<Arguments> {
        try task(
            name, aliases: aliases, queue: queue, priority: priority, lock: lock, queueingLock: queueingLock, retry: retry,
            timeout: timeout, middleware: middleware, limit: limit, keyLimit: keyLimit, limitKey: limitKey
        ) { (arguments: Arguments, _: JobContext) in try await body(arguments) }
    }
}

/// Tasks registered apart from an app, to be added to one later, possibly under a namespace.
///
/// ```swift
/// let emails = Blueprint()
/// let send = try emails.task("send") { (email: SendEmail) in … }
/// try app.add(emails, namespace: "emails")   // the task is now "emails:send"
/// ```
public final class Blueprint: TaskRegistrar {
    let registry = TaskRegistry()

    /// An empty blueprint.
    public init() {}

    public func register(_ task: TaskDefinition) throws {
        try registry.add(task)
    }
}
