public import ArgumentParser
import Foundation
import Procrastinate

/// A job as the admin commands print it in JSON.
struct JobReport: Encodable {
    var id: Int64
    var queue: String
    var task: String
    var priority: Int
    var lock: String?
    var queueing_lock: String?
    var args: JSONValue
    var status: String
    var scheduled_at: Date?
    var attempts: Int
    var abort_requested: Bool
    var worker_id: Int64?
    /// For a waiting job: whether a registered worker claims its task on its queue.
    var claimed_by_a_worker: Bool?
    /// For a waiting job: whether its queue is paused (no Swift worker claims it until resumed).
    var queue_paused: Bool?
    /// The recorded errors of its failed attempts, oldest first.
    var errors: [ErrorReport]?

    /// A recorded error of an attempt.
    struct ErrorReport: Encodable {
        var attempt: Int
        var at: Date
        var type: String
        var message: String
    }

    init(_ job: Job, claims: WorkerClaims? = nil, paused: Set<String>? = nil, errors: [JobError]? = nil) {
        id = job.id
        queue = job.queue
        task = job.taskName
        priority = job.priority
        lock = job.lock
        queueing_lock = job.queueingLock
        args = (try? JSONDecoder().decode(JSONValue.self, from: Data(job.arguments.utf8))) ?? .string(job.arguments)
        status = job.status.rawValue
        scheduled_at = job.scheduledAt
        attempts = job.attempts
        abort_requested = job.abortRequested
        worker_id = job.workerID
        if job.status == .todo, let claims {
            claimed_by_a_worker = claims.claim(taskName: job.taskName, queue: job.queue)
        }
        if job.status == .todo, let paused {
            queue_paused = paused.contains(job.queue)
        }
        self.errors = errors?.map { ErrorReport(attempt: $0.attempt, at: $0.at, type: $0.cause.type, message: $0.cause.message) }
    }

    /// What follows a job's line: its queue paused, no worker claiming it.
    static func notes(_ job: Job, claims: WorkerClaims?, paused: Set<String>) -> String {
        (job.status == .todo && paused.contains(job.queue) ? "  [queue \(job.queue) is paused]" : "")
            + (claims.map { unclaimedNote(job, claims: $0) } ?? "")
    }

    /// The lines of a job's recorded errors: `  attempt 1 failed at …: Type: message`.
    static func errorLines(_ errors: [JobError]) -> [String] {
        errors.map { error in
            "  attempt \(error.attempt) failed at \(ProcrastinateShell.pythonDateString(error.at)): \(error.cause.type): \(error.cause.message)"
        }
    }

    /// The warning that follows a waiting job no registered worker claims.
    static func unclaimedNote(_ job: Job, claims: WorkerClaims) -> String {
        job.status == .todo && !claims.claim(taskName: job.taskName, queue: job.queue)
            ? "  [no registered worker claims task \(job.taskName) on queue \(job.queue)]" : ""
    }
}

/// `procrastinate jobs …`: list, show, cancel, abort, retry and prune jobs.
struct JobsCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "jobs",
            abstract: "List, show, cancel, abort, retry and prune jobs.",
            subcommands: [List.self, Show.self, Cancel.self, Abort.self, Retry.self, Prune.self]
        )
    }

    /// Why a command found nothing to do to job `id`: there is no such job, or its status.
    static func notActing(on id: Int64, manager: JobManager, expected: String) async throws -> any Error {
        guard let job = try await manager.job(id: id) else { return NoSuchJob(jobID: id) }
        let negation = expected.contains(" nor ") ? "neither" : "not"
        return CommandError("job \(id) is \(negation) \(expected): it is \(job.status.rawValue)")
    }

    struct List: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "List jobs, by id.",
                discussion: examples("jobs list --status failed --queue emails --json")
            )
        }
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only this queue.") var queue: String?
        @Option(help: "Only this task.") var task: String?
        @Option(help: "Only this status.") var status: JobStatus?
        @Option(help: "Only this lock.") var lock: String?
        @Option(help: "Only this queueing lock.") var queueingLock: String?
        @Option(parsing: .unconditional, help: "Only jobs of this worker.") var worker: Int64?

        func run() async throws {
            let filter = JobFilter(queue: queue, taskName: task, status: status, lock: lock, queueingLock: queueingLock, workerID: worker)
            try await global.withApp { app in
                let jobs = try await app.jobManager.listJobs(filter)
                let claims = try await app.jobManager.workerClaims()
                let paused = Set(try await app.jobManager.pausedQueues().map(\.name))
                try output.emit(jobs.map { JobReport($0, claims: claims, paused: paused) }) {
                    jobs.isEmpty ? ["No jobs" + (filter == JobFilter() ? "" : " match these filters")]
                        : jobs.map { ProcrastinateShell.describe($0, details: true) + JobReport.notes($0, claims: claims, paused: paused) }
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(abstract: "Show one job.", discussion: examples("jobs show 42"))
        }
        @OptionGroup var global: GlobalOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The job's id.") var id: Int64

        func run() async throws {
            try await global.withApp { app in
                guard let job = try await app.jobManager.job(id: id) else { throw NoSuchJob(jobID: id) }
                let errors = try await app.jobManager.errors(of: id)
                let paused = Set(try await app.jobManager.pausedQueues().map(\.name))
                try output.emit(JobReport(job, paused: paused, errors: errors)) {
                    [ProcrastinateShell.describe(job, details: true) + JobReport.notes(job, claims: nil, paused: paused)]
                        + JobReport.errorLines(errors)
                }
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "Cancel a waiting job; exit status 1 when it is not waiting.",
                discussion: examples("jobs cancel 42 --delete")
            )
        }
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The job's id.") var id: Int64
        @Flag(help: "Delete the job instead of keeping it as cancelled.") var delete = false

        func run() async throws {
            try await global.withApp { app in
                guard try await app.jobManager.cancel(id: id, delete: delete) else {
                    throw try await JobsCommand.notActing(on: id, manager: app.jobManager, expected: "waiting")
                }
                print(delete ? "Deleted job \(id)" : "Cancelled job \(id)")
            }
        }
    }

    struct Abort: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "Abort a running job (or cancel a waiting one); exit status 1 when it has ended.",
                discussion: examples("jobs abort 42")
            )
        }
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The job's id.") var id: Int64

        func run() async throws {
            try await global.withApp { app in
                guard try await app.jobManager.cancel(id: id, abort: true) else {
                    throw try await JobsCommand.notActing(on: id, manager: app.jobManager, expected: "waiting nor running")
                }
                print("Abort requested for job \(id)")
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "Put a failed (or running) job back in the queue.",
                discussion: examples("jobs retry 42 --queue slow --priority -1")
            )
        }
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The job's id.") var id: Int64
        @Option(help: "Not before this ISO 8601 time (default: now).") var at: String?
        @Option(parsing: .unconditional, help: "A new priority.") var priority: Int?
        @Option(help: "A new queue.") var queue: String?
        @Option(help: "A new lock.") var lock: String?

        func run() async throws {
            let date = try at.map { try parseTime($0, option: "--at", zone: TimeZone(identifier: "UTC")!) } ?? Date()
            try await global.withApp { app in
                try await app.jobManager.retry(id: id, at: date, priority: priority, queue: queue, lock: lock)
                print("Retrying job \(id)")
            }
        }
    }
}

extension JobStatus: ExpressibleByArgument {}
