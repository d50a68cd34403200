// The quickstart: define tasks, defer jobs, run a worker until the queue is empty.
//
//   scripts/demo                       # with a throwaway PostgreSQL
//   PROCRASTINATE_DATABASE_URL=postgresql://… swift run Quickstart
import Foundation
import Logging
import Procrastinate

/// Arguments of the `sum` task: the JSON object `{"a": 3, "b": 5}` in the database, as a
/// Python caller's `sum.defer(a=3, b=5)` writes it.
struct Sum: Codable, Sendable {
    var a: Int
    var b: Int
}

struct SendEmail: Codable, Sendable {
    var to: String
    var subject: String
}

struct ServiceUnavailable: Error {}

@main
enum Quickstart {
    /// Runs the example; a mistake ends it with one line on standard error and status 1,
    /// rather than a crash report.
    static func main() async {
        do { try await run() } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run() async throws {
        let settings = try ConnectionSettings.resolve(url: nil)
        var logger = Logger(label: "quickstart")
        logger.logLevel = ProcessInfo.processInfo.environment["PROCRASTINATE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let app = App(connector: PostgresConnector(settings: settings, logger: logger), logger: logger)

        let sum = try app.task("sum", queue: "math") { (arguments: Sum, context: JobContext) in
            print("job \(context.job.id): \(arguments.a) + \(arguments.b) = \(arguments.a + arguments.b)")
        }
        let sendEmail = try app.task("send_email", queue: "emails") { (email: SendEmail) in
            print("sending '\(email.subject)' to \(email.to)")
        }
        // Fails on its first run; its retry strategy runs it again.
        let flaky = try app.task("flaky", retry: RetryStrategy(maxAttempts: 2)) { (_: NoArguments, context: JobContext) in
            print("job \(context.job.id): flaky, attempt \(context.job.attempts + 1)")
            if context.job.attempts == 0 { throw ServiceUnavailable() }
        }
        // Fails, and has no retry strategy: the job ends failed.
        let broken = try app.task("broken") { (_: NoArguments, context: JobContext) in
            print("job \(context.job.id): broken, fails")
            throw ServiceUnavailable()
        }

        try await app.run {
            print("Deferring jobs to \(settings.endpoint)")
            let first = try await sum.defer(Sum(a: 3, b: 5))
            // Jobs sharing a lock run one at a time, in order.
            let locked = try await sendEmail.configure(lock: "user:42").defer(SendEmail(to: "ada@example.com", subject: "Welcome"))
            // Not before an hour from now.
            let later = try await sum.configure(scheduleIn: .seconds(3600)).defer(Sum(a: 1, b: 2))
            // Several jobs in one statement.
            let batch = try await sum.batchDefer([Sum(a: 10, b: 20), Sum(a: 30, b: 40)])
            let retried = try await flaky.defer()
            let failed = try await broken.defer()
            print("Deferred jobs \(([first, locked, later] + batch + [retried, failed]).map(String.init).joined(separator: ", "))")

            print("\nRunning a worker until no job is left to fetch:")
            try await app.workUntilStopped(WorkerOptions(concurrency: 2, wait: false))

            print("\nJobs:")
            for job in try await app.jobManager.listJobs() {
                let scheduled = job.scheduledAt.map { " scheduled at \($0)" } ?? ""
                let lock = job.lock.map { " lock=\($0)" } ?? ""
                print("  #\(job.id) \(job.taskName) on \(job.queue) - [\(job.status.rawValue)] args=\(job.arguments)\(lock)\(scheduled), attempts: \(job.attempts)")
            }
            print("\nQueues:")
            for queue in try await app.jobManager.listQueues() {
                print("  \(queue.name): \(queue.total) jobs (todo: \(queue[.todo]), succeeded: \(queue[.succeeded]), failed: \(queue[.failed]))")
            }
        }
    }
}
