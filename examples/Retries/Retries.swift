// Retries, abort and timeouts.
//
//   scripts/example Retries
//
// A flaky task fails twice and succeeds on its third run; a slow one passes its timeout and
// fails; a long one is aborted while it runs.
import Foundation
import Logging
import Procrastinate

struct Flaky: Error {}

@main
enum Retries {
    static func main() async {
        do { try await run() } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run() async throws {
        var logger = Logger(label: "retries")
        logger.logLevel = .critical
        let app = App(connector: PostgresConnector(settings: try ConnectionSettings.resolve(url: nil), logger: logger), logger: logger)

        let flaky = try app.task("flaky", retry: RetryStrategy(maxAttempts: 5, wait: 0.1)) { (_: NoArguments, context: JobContext) in
            print("flaky: run \(context.job.attempts + 1)")
            if context.job.attempts < 2 { throw Flaky() }
        }
        let slow = try app.task("slow", timeout: .milliseconds(300)) { (_: NoArguments) in
            print("slow: started, will not finish within its 300 ms timeout")
            try await Task.sleep(for: .seconds(30))
        }
        let long = try app.task("long") { (_: NoArguments, context: JobContext) in
            print("long: started, runs until aborted")
            while !context.shouldAbort {
                try await Task.sleep(for: .milliseconds(20))
            }
            print("long: asked to abort (\(context.abortReason!.rawValue))")
            throw CancellationError()
        }

        try await app.run {
            let ids = [try await flaky.defer(), try await slow.defer(), try await long.defer()]
            let worker = Worker(app: app, options: WorkerOptions(concurrency: 3, fetchJobPollingInterval: .milliseconds(100)))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                while try await app.jobManager.status(of: ids[2]) != .doing { try await Task.sleep(for: .milliseconds(20)) }
                try await app.jobManager.cancel(id: ids[2], abort: true)
                while try await app.jobManager.listJobs().contains(where: { !$0.status.isFinal }) {
                    try await Task.sleep(for: .milliseconds(20))
                }
                worker.stop()
                try await group.waitForAll()
            }
            print("\nOutcomes:")
            for job in try await app.jobManager.listJobs() {
                print("  \(job.taskName): \(job.status.rawValue) after \(job.attempts) run(s)")
            }
        }
    }
}
