import ArgumentParser
import Foundation
import Procrastinate

/// What `queues`, `tasks` and `locks` share: filters and output.
struct CountOptions: ParsableArguments {
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "Only this queue.") var queue: String?
    @Option(help: "Only this task.") var task: String?
    @Option(help: "Only this status.") var status: JobStatus?
    @Option(help: "Only this lock.") var lock: String?

    func run(_ grouping: JobGrouping) async throws {
        struct Report: Encodable {
            var name: String
            var jobs_count: Int
            var todo, doing, succeeded, failed, cancelled, aborted: Int
            /// For tasks with waiting jobs: whether a registered worker claims the task.
            var claimed_by_a_worker: Bool?
        }
        let filter = JobFilter(queue: queue, taskName: task, status: status, lock: lock)
        try await global.withApp { app in
            let counts = try await app.connector.countJobs(by: grouping, filter)
            let claims = grouping == .task ? try await app.jobManager.workerClaims() : nil
            /// Whether `count`'s waiting jobs are of a task no registered worker claims.
            func unclaimed(_ count: JobCounts) -> Bool {
                guard let claims, count[.todo] > 0 else { return false }
                return !claims.claim(taskName: count.name, queue: queue)
            }
            let reports = counts.map {
                Report(
                    name: $0.name, jobs_count: $0.total, todo: $0[.todo], doing: $0[.doing], succeeded: $0[.succeeded],
                    failed: $0[.failed], cancelled: $0[.cancelled], aborted: $0[.aborted],
                    claimed_by_a_worker: claims != nil && $0[.todo] > 0 ? !unclaimed($0) : nil
                )
            }
            try output.emit(reports) {
                counts.isEmpty ? ["No jobs" + (filter == JobFilter() ? "" : " match these filters")]
                    : counts.map { ProcrastinateShell.describe($0) + (unclaimed($0) ? "  [no registered worker claims this task]" : "") }
            }
        }
    }
}

/// `procrastinate tasks`.
struct TasksCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "tasks", abstract: "Job counts per task and status.", discussion: examples("tasks --status failed")
        )
    }
    @OptionGroup var options: CountOptions
    func run() async throws { try await options.run(.task) }
}

/// `procrastinate locks`.
struct LocksCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "locks", abstract: "Job counts per lock and status.", discussion: examples("locks --queue emails")
        )
    }
    @OptionGroup var options: CountOptions
    func run() async throws { try await options.run(.lock) }
}
