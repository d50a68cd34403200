import Foundation
import Procrastinate

/// The commands of `procrastinate shell`, with Python Procrastinate's names, arguments and
/// output, so that scripts written against the Python shell keep working.
struct ProcrastinateShell {
    let manager: JobManager
    /// Where lines go.
    let write: (String) -> Void

    static let intro = "Welcome to the procrastinate shell.   Type help or ? to list commands.\n"
    static let prompt = "procrastinate> "

    static let help: [String: String] = [
        "EOF": "Exit procrastinate shell.",
        "exit": "Exit procrastinate shell.",
        "help": "List available commands with \"help\" or detailed help with \"help cmd\".",
        "list_jobs": """

                    List jobs.
                    Usage: list_jobs [id=ID] [queue=QUEUE_NAME] [task=TASK_NAME] [status=STATUS]
                                     [lock=LOCK] [queueing_lock=QUEUEING_LOCK] [details]

                    Jobs can be filtered by id, queue name, task name, status and lock.
                    Use the details argument to get more info about jobs.

                    Example: list_jobs queue=default task=sums status=failed details

            """,
        "list_queues": """

                    List queues: get queue names and number of jobs per queue.
                    Usage: list_queues [queue=QUEUE_NAME] [task=TASK_NAME] [status=STATUS]
                                       [lock=LOCK]

                    Jobs can be filtered by queue name, task name, status and lock.

                    Example: list_queues task=sums status=failed

            """,
        "list_tasks": """

                    List tasks: get task names and number of jobs per task.
                    Usage: list_tasks [queue=QUEUE_NAME] [task=TASK_NAME] [status=STATUS]
                                      [lock=LOCK]

                    Jobs can be filtered by queue name, task name, status and lock.

                    Example: list_tasks queue=default status=failed

            """,
        "list_locks": """

                    List locks: get lock names and number of jobs per task.
                    Usage: list_locks [queue=QUEUE_NAME] [task=TASK_NAME] [status=STATUS]
                                      [lock=LOCK]

                    Jobs can be filtered by queue name, task name, status and lock.

                    Example: list_locks queue=default status=todo

            """,
        "retry": """

                    Retry a specific job (reset its status to todo).
                    Usage: retry JOB_ID

                    JOB_ID is the id (numeric) of the job.

                    Example: retry 2

            """,
        "list_limits": """

                    List limits: the concurrency and rate limits of queues, tasks and limit keys,
                    with their jobs running and waiting. (Procrastinate for Swift only.)
                    Usage: list_limits

            """,
        "pause_queue": """

                    Pause a queue: no Swift worker claims its jobs until it is resumed.
                    (Procrastinate for Swift only; Python workers ignore it.)
                    Usage: pause_queue QUEUE_NAME

                    Example: pause_queue emails

            """,
        "resume_queue": """

                    Resume a paused queue. (Procrastinate for Swift only.)
                    Usage: resume_queue QUEUE_NAME

                    Example: resume_queue emails

            """,
        "cancel": """

                    Cancel a specific job (set its status to failed).
                    Usage: cancel JOB_ID

                    JOB_ID is the id (numeric) of the job.

                    Example: cancel 3

            """,
    ]

    /// Runs one command line; returns whether it ran, failed or ends the shell.
    func execute(_ line: String) async -> Result {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return .done }
        var name = String(trimmed.prefix { !$0.isWhitespace })
        var argument = trimmed.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
        if name.hasPrefix("?") {
            argument = String(name.dropFirst()) + (argument.isEmpty ? "" : " " + argument)
            name = "help"
        }
        do {
            switch name {
            case "EOF", "exit":
                return .exit
            case "help":
                showHelp(argument.trimmingCharacters(in: .whitespaces))
            case "list_jobs":
                var filter = try parse(argument, allowing: ["id", "queue", "task", "status", "lock", "queueing_lock", "details"])
                let details = filter.removeValue(forKey: "details") != nil
                let jobs = try await manager.listJobs(try jobFilter(filter))
                let errors = details ? try await manager.errors(of: jobs.map(\.id)) : [:]
                for job in jobs {
                    write(Self.describe(job, details: details))
                    JobReport.errorLines(errors[job.id] ?? []).forEach(write)
                }
            case "list_queues", "list_tasks", "list_locks":
                let filter = try jobFilter(try parse(argument, allowing: ["queue", "task", "status", "lock"]))
                let counts = switch name {
                case "list_queues": try await manager.listQueues(filter)
                case "list_tasks": try await manager.listTasks(filter)
                default: try await manager.listLocks(filter)
                }
                counts.forEach { write(Self.describe($0, asPython: true)) }
            case "list_limits":
                _ = try parse(argument, allowing: [])
                try await manager.limits().forEach { write(ListLimitsCommand.describe($0)) }
            case "pause_queue":
                let queue = try queueName(argument)
                write(try await manager.pause(queue: queue) ? "Paused queue \(queue)" : "Queue \(queue) was paused already")
            case "resume_queue":
                let queue = try queueName(argument)
                write(try await manager.resume(queue: queue) ? "Resumed queue \(queue)" : "Queue \(queue) was not paused")
            case "retry":
                let id = try jobID(argument)
                try await manager.retry(id: id, at: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))
                try await showJob(id)
            case "cancel":
                let id = try jobID(argument)
                try await manager.cancel(id: id)
                try await showJob(id)
            default:
                write("*** Unknown syntax: \(trimmed)")
                return .failed
            }
        } catch {
            printError("Error: \(error)")
            return .failed
        }
        return .done
    }

    /// How a command line ended.
    enum Result {
        /// It ran.
        case done
        /// It failed (the error was printed).
        case failed
        /// It asked the shell to end.
        case exit
    }

    private func showHelp(_ topic: String) {
        if topic.isEmpty {
            let names = Self.help.keys.sorted { ($0 == "EOF" ? "" : $0) < ($1 == "EOF" ? "" : $1) }
            write("")
            write("Documented commands (type help <topic>):")
            write("========================================")
            write(names.joined(separator: "  "))
            write("")
        } else if let text = Self.help[topic] {
            write(text)
        } else {
            write("*** No help on \(topic)")
        }
    }

    private func showJob(_ id: Int64) async throws {
        guard let job = try await manager.job(id: id) else { throw NoSuchJob(jobID: id) }
        write(Self.describe(job, details: false))
    }

    /// `key=value` words (a word without `=` maps to "").
    private func parse(_ argument: String, allowing keys: Set<String>) throws -> [String: String] {
        var values: [String: String] = [:]
        for word in argument.split(whereSeparator: \.isWhitespace) {
            let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            guard keys.contains(key) else {
                throw CommandError("unknown argument '\(key)' (expected \(keys.sorted().joined(separator: ", ")))")
            }
            values[key] = parts.count > 1 ? String(parts[1]) : ""
        }
        return values
    }

    private func jobFilter(_ values: [String: String]) throws -> JobFilter {
        var filter = JobFilter()
        if let id = values["id"] {
            guard let number = Int64(id) else { throw CommandError("id must be a number, not '\(id)'") }
            filter.id = number
        }
        if let status = values["status"] {
            guard let known = JobStatus(rawValue: status) else {
                throw CommandError("unknown status '\(status)' (expected \(JobStatus.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            filter.status = known
        }
        filter.queue = values["queue"]
        filter.taskName = values["task"]
        filter.lock = values["lock"]
        filter.queueingLock = values["queueing_lock"]
        return filter
    }

    private func queueName(_ argument: String) throws -> String {
        guard !argument.isEmpty, !argument.contains(where: \.isWhitespace) else {
            throw CommandError("expected one queue name, not '\(argument)'")
        }
        return argument
    }

    private func jobID(_ argument: String) throws -> Int64 {
        guard let id = Int64(argument) else { throw CommandError("expected a job id (a number), not '\(argument)'") }
        return id
    }

    /// `#42 sum on default - [todo]`, with details
    /// ` (attempts=0, priority=0, scheduled_at=None, args={'a': 1}, lock=None)`.
    static func describe(_ job: Job, details: Bool) -> String {
        var line = "#\(job.id) \(job.taskName) on \(job.queue) - [\(job.status.rawValue)]"
        if details {
            let scheduled = job.scheduledAt.map(pythonDateString) ?? "None"
            line += " (attempts=\(job.attempts), priority=\(job.priority), scheduled_at=\(scheduled), "
                + "args=\(PythonRepr.render(json: job.arguments)), lock=\(job.lock ?? "None"))"
        }
        return line
    }

    /// `default: 3 jobs (todo: 1, doing: 0, succeeded: 2, failed: 0, cancelled: 0, aborted: 0)`;
    /// `1 job` unless `asPython` (the shell prints Python's lines, `1 jobs` included).
    static func describe(_ counts: JobCounts, asPython: Bool = false) -> String {
        let statuses: [JobStatus] = [.todo, .doing, .succeeded, .failed, .cancelled, .aborted]
        let detail = statuses.map { "\($0.rawValue): \(counts[$0])" }.joined(separator: ", ")
        let noun = counts.total == 1 && !asPython ? "job" : "jobs"
        return "\(counts.name): \(counts.total) \(noun) (\(detail))"
    }

    /// Python's `str()` of a UTC datetime (`2024-01-01 12:00:00+00:00`): microseconds only
    /// when not zero.
    static func pythonDateString(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let microseconds = Int(((date.timeIntervalSince1970 - seconds) * 1_000_000).rounded())
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate]
        formatter.timeZone = TimeZone(identifier: "UTC")
        let base = formatter.string(from: Date(timeIntervalSince1970: seconds))
        let fraction = microseconds == 0 ? "" : "." + String(format: "%06d", microseconds)
        return base.replacingOccurrences(of: "T", with: " ") + fraction + "+00:00"
    }
}
