public import Foundation
public import Logging
import Synchronization

/// A Procrastinate application: its tasks and its connection to the database.
///
/// ```swift
/// let app = App(connector: PostgresConnector(settings: try ConnectionSettings(url: url)))
/// let sendEmail = try app.task("send_email", queue: "emails") { (email: SendEmail, context: JobContext) in … }
/// try await app.run {
///     try await sendEmail.defer(SendEmail(to: "a@b.c", subject: "Hi"))
/// }
/// ```
public final class App: TaskRegistrar {
    /// Where jobs are stored.
    public let connector: any Connector
    /// Where the app, its tasks and its workers log.
    public let logger: Logger
    let registry = TaskRegistry()
    let periodicRegistry = Mutex<[PeriodicTask]>([])
    let queueLimits = Mutex<[String: Limit]>([:])

    /// An app storing jobs through `connector`, with the ``BuiltinTasks`` registered.
    public init(connector: any Connector, logger: Logger = Logger(label: "procrastinate")) {
        self.connector = connector
        self.logger = logger
        BuiltinTasks.register(on: self)
    }

    public func register(_ task: TaskDefinition) throws {
        try registry.add(task)
        task.bind(to: self, namespace: nil)
    }

    /// Adds the tasks of `blueprint`, named `namespace:name` when a namespace is given.
    ///
    /// - Throws: ``TaskAlreadyRegistered`` when a name is taken (then nothing is added).
    public func add(_ blueprint: Blueprint, namespace: String? = nil) throws {
        let tasks = blueprint.registry.tasks
        if let taken = registry.conflicts(with: tasks, namespace: namespace) {
            throw TaskAlreadyRegistered(name: taken)
        }
        for task in tasks {
            task.bind(to: self, namespace: namespace)
            try registry.add(task)
        }
    }

    /// The task registered under `name` (or an alias).
    public func task(named name: String) -> TaskDefinition? {
        registry.task(named: name)
    }

    /// The names and aliases of the application's tasks, sorted (the ``BuiltinTasks`` apart).
    public var taskNames: [String] { registry.names.filter { !BuiltinTasks.contains($0) } }

    /// The registered tasks.
    public var tasks: [TaskDefinition] { registry.tasks }

    /// Whether tasks other than the ``BuiltinTasks`` are registered.
    public var hasOwnTasks: Bool { !taskNames.isEmpty }

    /// Defers jobs to a task by name, with arguments given as JSON values: for tasks this
    /// app does not know (another service's, or another language's) or for tools.
    ///
    /// ```swift
    /// try await app.configureTask(name: "sum", queue: "math").defer(["a": 3, "b": 5])
    /// ```
    ///
    /// - Throws: ``UnknownTask`` when `allowUnknown` is false and no task has that name.
    public func configureTask(
        name: String, allowUnknown: Bool = true, queue: String? = nil, priority: Int? = nil, lock: String? = nil,
        queueingLock: String? = nil, scheduleAt: Date? = nil, scheduleIn: Duration? = nil
    ) throws -> JobDeferrer<[String: JSONValue]> {
        try configureTask(
            name: name, allowUnknown: allowUnknown,
            JobOptions(queue: queue, priority: priority, lock: lock, queueingLock: queueingLock, scheduleAt: scheduleAt, scheduleIn: scheduleIn)
        )
    }

    /// Defers jobs to a task by name with `options`, over its registered defaults if any.
    ///
    /// - Throws: ``UnknownTask`` when `allowUnknown` is false and no task has that name.
    public func configureTask(name: String, allowUnknown: Bool = true, _ options: JobOptions) throws -> JobDeferrer<[String: JSONValue]> {
        let known = task(named: name)
        if known == nil && !allowUnknown {
            throw UnknownTask(name: name, knownNames: taskNames)
        }
        return configure(TaskName<[String: JSONValue]>(known?.name ?? name), options)
    }

    /// The administration API.
    public var jobManager: JobManager { JobManager(connector: connector) }

    /// Runs `body` with the connector open (a ``PostgresConnector`` owning its pool starts and
    /// stops it).
    @discardableResult
    public func run<Result: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async throws -> Result {
        try await connector.open(isolation: isolation, during: body)
    }
}
