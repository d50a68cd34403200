public import Cron
public import Foundation

/// What every error Procrastinate throws is: its `description` is the message users see, and
/// `localizedDescription` (which Hummingbird, Vapor and many loggers print) says the same.
///
/// ```swift
/// catch let error as any ProcrastinateError { logger.error("\(error)") }
/// ```
public protocol ProcrastinateError: LocalizedError, CustomStringConvertible, Sendable {}

extension ProcrastinateError {
    /// The `description`, for `localizedDescription`.
    public var errorDescription: String? { description }
}

/// A job could not be deferred: another waiting job holds its queueing lock. Nothing was inserted.
public struct AlreadyEnqueued: ProcrastinateError, Hashable {
    /// The queueing lock in the way.
    public var queueingLock: String

    /// An error for `queueingLock`.
    public init(queueingLock: String) {
        self.queueingLock = queueingLock
    }

    public var description: String {
        "Job cannot be enqueued: there is already a job in the queue with the queueing lock \(queueingLock)"
    }
}

/// No task of that name is registered.
public struct UnknownTask: ProcrastinateError, Hashable {
    /// The name asked for.
    public var name: String
    /// The names registered (aliases included), sorted.
    public var knownNames: [String]

    public var description: String {
        let known = knownNames.isEmpty ? "no task is registered" : "registered: \(knownNames.joined(separator: ", "))"
        return "unknown task '\(name)' (\(known)); register it, or allow unknown tasks (`--unknown` on the command line)"
    }
}

/// A task name (or alias) is registered twice.
public struct TaskAlreadyRegistered: ProcrastinateError, Hashable {
    /// The name.
    public var name: String

    public var description: String {
        "a task named '\(name)' is already registered; give it another name, or use a blueprint namespace"
    }
}

/// A task of a blueprint was used before the blueprint was added to an app.
public struct UnboundTask: ProcrastinateError, Hashable {
    /// The task's name.
    public var name: String

    public var description: String {
        "task '\(name)' belongs to a blueprint not added to an App yet: call app.add(blueprint) first"
    }
}

/// A job's arguments do not fit its task.
public struct ArgumentsError: ProcrastinateError, Hashable {
    /// The task.
    public var taskName: String
    /// Where in the arguments the problem is (`user.email`), empty for the whole.
    public var codingPath: String
    /// What is wrong.
    public var reason: String
    /// The JSON received (or produced).
    public var json: String

    public var description: String {
        let place = codingPath.isEmpty ? "" : " at '\(codingPath)'"
        return "arguments of task '\(taskName)'\(place): \(reason); received \(json)"
    }
}

/// A queue name PostgreSQL cannot notify on (channel names end at 63 bytes, so queue names at 40).
public struct InvalidQueueName: ProcrastinateError, Hashable {
    /// The name.
    public var name: String

    /// The longest queue name in bytes: `procrastinate_queue_v1#` plus the name must fit in 63.
    public static let maximumLength = 40

    public var description: String {
        "queue name '\(name)' is \(name.utf8.count) bytes long; PostgreSQL notifications allow at most \(Self.maximumLength)"
    }

    /// An error for `name`.
    public init(name: String) {
        self.name = name
    }

    /// Throws when `name` is too long or empty.
    public static func check(_ name: String) throws(InvalidQueueName) {
        guard !name.isEmpty, name.utf8.count <= maximumLength else { throw InvalidQueueName(name: name) }
    }
}

/// A request the job's state does not allow (finishing a job that is not running, …).
public struct InvalidJobState: ProcrastinateError, Hashable {
    /// The job.
    public var jobID: Int64
    /// What is wrong.
    public var reason: String

    /// An error about job `jobID`.
    public init(jobID: Int64, reason: String) {
        self.jobID = jobID
        self.reason = reason
    }

    public var description: String { "job \(jobID): \(reason)" }
}

/// The app was used while its connector's pool does not run: outside `app.run { … }`.
public struct AppNotOpen: ProcrastinateError, Hashable {
    /// How the connector names its database.
    public var endpoint: String

    /// An error for the connector of `endpoint`.
    public init(endpoint: String) {
        self.endpoint = endpoint
    }

    public var description: String {
        "the app is not open: its connection pool to \(endpoint) does not run; defer and administer inside "
            + "`try await app.run { … }` (or `connector.run { … }`), or run the PostgresClient you gave the connector in your ServiceGroup"
    }
}

/// No job has the id asked for (it never existed, or was deleted).
public struct NoSuchJob: ProcrastinateError, Hashable {
    /// The id asked for.
    public var jobID: Int64

    /// An error for `jobID`.
    public init(jobID: Int64) {
        self.jobID = jobID
    }

    public var description: String { "no job with id \(jobID)" }
}

/// Options that contradict each other.
public struct ConfigurationError: ProcrastinateError, Hashable {
    /// What is wrong.
    public var description: String

    /// An error saying `description`.
    public init(description: String) {
        self.description = description
    }
}

/// A task and periodic id registered twice.
public struct PeriodicTaskAlreadyRegistered: ProcrastinateError, Hashable {
    /// The task.
    public var taskName: String
    /// The periodic id.
    public var periodicID: String

    public var description: String {
        "task '\(taskName)' already has a schedule with periodic id '\(periodicID)'; give each schedule of a task its own periodic id"
    }
}

/// A periodic declaration whose cron expression does not parse, named with the expression's
/// own error.
public struct InvalidPeriodicSchedule: ProcrastinateError, Hashable {
    /// The task.
    public var taskName: String
    /// The periodic id.
    public var periodicID: String
    /// The expression as given.
    public var cron: String
    /// What is wrong with it.
    public var cause: CronParseError

    public var description: String {
        let id = periodicID.isEmpty ? "" : " (periodic id '\(periodicID)')"
        return "the schedule '\(cron)' of periodic task '\(taskName)'\(id): \(cause)"
    }
}

/// The database holds a job status this version does not know.
public struct UnknownJobStatus: ProcrastinateError, Hashable {
    /// The value read.
    public var value: String

    public var description: String {
        "unknown job status '\(value)' (known: \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))): "
            + "the database was written by a newer Procrastinate"
    }
}

/// Why the schema cannot be applied or used.
public enum SchemaError: ProcrastinateError, Equatable {
    /// The database already holds Procrastinate objects.
    case notEmpty(objects: [String], endpoint: String)
    /// The database does not hold the schema.
    case missing(endpoint: String)
    /// The database holds the 3.10 schema without our migrations (it was set up by Python
    /// Procrastinate), which workers need.
    case migrationsMissing(endpoint: String)

    public var description: String { description(command: "procrastinate") }

    /// The description, naming `command` as the executable that runs `schema` (an
    /// application's own executable embeds the command line).
    public func description(command: String) -> String {
        switch self {
        case .notEmpty(let objects, let endpoint):
            let shown = objects.prefix(5).joined(separator: ", ")
            let more = objects.count > 5 ? " and \(objects.count - 5) more" : ""
            return "the database \(endpoint) already holds Procrastinate objects (\(shown)\(more)); "
                + "`schema --apply` is for an empty database: run `\(command) schema --migrate` instead"
        case .missing(let endpoint):
            return "the database \(endpoint) has no Procrastinate schema: run `\(command) schema --apply`"
        case .migrationsMissing(let endpoint):
            return "the database \(endpoint) lacks Procrastinate for Swift's own functions (it was set up by Python "
                + "Procrastinate, or by an older version): run `\(command) schema --migrate`, which only adds objects, "
                + "so Python workers keep working"
        }
    }
}

/// Thrown by a task to ask for its job to run again, whatever its retry strategy says.
///
/// ```swift
/// throw RetryJob(in: .seconds(30))
/// ```
public struct RetryJob: ProcrastinateError {
    /// When and how.
    public var decision: RetryDecision

    /// Retry after `delay`, with the changes given.
    public init(in delay: Duration = .zero, priority: Int? = nil, queue: String? = nil, lock: String? = nil) {
        decision = RetryDecision(retryIn: delay, priority: priority, queue: queue, lock: lock)
    }

    /// Retry at `date`, with the changes given.
    public init(at date: Date, priority: Int? = nil, queue: String? = nil, lock: String? = nil) {
        decision = RetryDecision(retryAt: date, priority: priority, queue: queue, lock: lock)
    }

    public var description: String { "the task asked for its job to run again" }
}

/// A job ran longer than its task's timeout and was cancelled.
public struct JobTimedOut: ProcrastinateError, Hashable {
    /// The timeout.
    public var timeout: Duration

    public var description: String { "the job ran longer than its timeout of \(timeout)" }
}

/// A claim named a worker whose registration is gone (another worker pruned it while this one
/// was paused or cut off): the worker registers again.
public struct WorkerRegistrationGone: ProcrastinateError, Hashable {
    /// The worker's id.
    public var workerID: Int64

    public var description: String { "worker \(workerID) is no longer registered" }
}

/// A running job whose worker stopped answering; recovery treats it as this error.
public struct JobStalled: ProcrastinateError, Hashable {
    public var description: String { "the job's worker stopped sending heartbeats" }
}

/// A prune or retention was asked for something it cannot do; nothing was deleted.
public struct InvalidPrune: ProcrastinateError, Hashable {
    /// What is wrong, naming the value.
    public var reason: String

    /// An error saying `reason`.
    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { "cannot prune jobs: \(reason)" }
}
