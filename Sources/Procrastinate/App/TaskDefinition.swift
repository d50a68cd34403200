import Synchronization

/// The options of a task: its defaults for the jobs deferred to it, and how it runs.
public struct TaskOptions: Sendable {
    /// The queue of jobs that name none.
    public static let defaultQueue = "default"

    /// The defaults of its jobs (queue, priority, lock, queueing lock), which `configure`,
    /// periodic schedules and crontab lines override.
    public var jobs: JobOptions
    /// When a failed job runs again (nil: never).
    public var retry: (any RetryPolicy)?
    /// How long a job may run before it is cancelled (nil: no limit).
    public var timeout: Duration?
    /// Middleware around this task's jobs, inside the worker's, outermost first.
    public var middleware: [any JobMiddleware]
    /// The limit of all its jobs together, across every Swift worker (nil: none). A worker
    /// writes it to the database when it starts.
    public var limit: Limit?
    /// The limit of the jobs of each limit key (nil: its jobs take no key), across every Swift
    /// worker and every task whose jobs share the key.
    public var keyLimit: Limit?

    /// Options; the defaults are Procrastinate's.
    public init(
        jobs: JobOptions = JobOptions(), retry: (any RetryPolicy)? = nil, timeout: Duration? = nil,
        middleware: [any JobMiddleware] = [], limit: Limit? = nil, keyLimit: Limit? = nil
    ) {
        self.jobs = jobs
        self.retry = retry
        self.timeout = timeout
        self.middleware = middleware
        self.limit = limit
        self.keyLimit = keyLimit
    }
}

/// A registered task, its type erased: what a worker needs to run a job of it.
public final class TaskDefinition: Sendable {
    /// Where a task is registered: its app (nil in a blueprint not added yet) and its names
    /// there (a blueprint namespace prefixes them).
    struct Binding: Sendable {
        var app: App?
        var name: String
        var aliases: [String]
    }

    /// The task's options.
    public let options: TaskOptions
    private let binding: Mutex<Binding>
    private let body: @Sendable (_ arguments: String, _ context: JobContext, _ name: String) async throws -> Void
    private let decodes: @Sendable (_ arguments: String, _ name: String, _ unread: Set<String>) throws -> Void
    /// The limit key of a job's arguments (nil: the task computes none).
    private let limitKeyOf: (@Sendable (_ arguments: String, _ name: String) throws -> String?)?
    /// The type its arguments decode as.
    let argumentsType: ObjectIdentifier

    init<Arguments: Decodable & Sendable>(
        name: String, aliases: [String], options: TaskOptions, arguments: Arguments.Type,
        limitKey: (@Sendable (Arguments) -> String?)? = nil,
        body: @escaping @Sendable (Arguments, JobContext) async throws -> Void
    ) {
        self.options = options
        if let limitKey {
            self.limitKeyOf = { json, name in limitKey(try ArgumentsCoding.decode(Arguments.self, from: json, taskName: name)) }
        } else {
            self.limitKeyOf = nil
        }
        self.binding = Mutex(Binding(app: nil, name: name, aliases: aliases))
        self.body = { json, context, name in
            try await body(try ArgumentsCoding.decode(Arguments.self, from: json, taskName: name), context)
        }
        let shapes = KnownShapes()
        self.decodes = { json, name, unread in
            try ArgumentsChecker.check(Arguments.self, json: json, taskName: name, mayLeaveUnread: unread, shapes: shapes)
        }
        self.argumentsType = ObjectIdentifier(Arguments.self)
    }

    /// Throws ``ArgumentsError`` unless `arguments` decode as the task's arguments, and read
    /// every key they give but those of `mayLeaveUnread` (a misspelt optional field would
    /// otherwise decode as nil).
    public func checkArguments(_ arguments: String, mayLeaveUnread: Set<String> = []) throws {
        try decodes(arguments, name, mayLeaveUnread)
    }

    /// `job` with its limit key: the one given, or else the one the task computes from its
    /// arguments; and the task's ``TaskOptions/keyLimit`` with it.
    ///
    /// - Throws: ``ConfigurationError`` for a key given to a task without a key limit.
    func withLimitKey(_ job: NewJob, given: String?) throws -> NewJob {
        var job = job
        job.limitKey = try given ?? limitKeyOf?(job.arguments, name)
        guard job.limitKey != nil else { return job }
        guard let keyLimit = options.keyLimit else {
            throw ConfigurationError(
                description: "task '\(name)' got limit key '\(job.limitKey!)' but declares no keyLimit: give the task a keyLimit"
            )
        }
        job.keyLimit = keyLimit
        return job
    }

    /// The task's name (with its blueprint namespace, once added to an app).
    public var name: String { binding.withLock { $0.name } }

    /// Other names jobs of this task may carry (renamed tasks).
    public var aliases: [String] { binding.withLock { $0.aliases } }

    var app: App? { binding.withLock { $0.app } }

    /// Runs a job of this task: decodes its arguments and calls the task.
    ///
    /// - Throws: ``ArgumentsError`` when the arguments do not fit, or what the task throws.
    public func run(arguments: String, context: JobContext) async throws {
        try await body(arguments, context, name)
    }

    func bind(to app: App, namespace: String?) {
        binding.withLock { binding in
            binding.app = app
            if let namespace {
                binding.name = "\(namespace):\(binding.name)"
                binding.aliases = binding.aliases.map { "\(namespace):\($0)" }
            }
        }
    }
}
