// An application executable for the tests that need worker processes: its tasks print what
// they do, and ProcrastinateCommand gives it every subcommand (`worker`, …).
import ArgumentParser
import Foundation
import Logging
import Procrastinate
import ProcrastinateCLI

struct Locked: Codable, Sendable {
    var index: Int
    var sleepMilliseconds: Int
}

struct Sleepy: Codable, Sendable {
    var seconds: Int
}

struct Chaos: Codable, Sendable {
    var milliseconds: Int
}

struct Typed: Codable, Sendable {
    var count: Int
    var label: String?
}

struct Tick: Codable, Sendable {
    var timestamp: Int
}

struct Tenant: Codable, Sendable {
    var tenant: Int
    var milliseconds: Int
}

/// Writes one line to standard output at once (no buffering), so a killed process loses nothing.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// An application's own subcommand, beside Procrastinate's.
struct Greet: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Say hello (an application's own subcommand).")
    @Argument var name: String
    func run() { print("hello \(name)") }
}

@main
enum TestWorker {
    static func main() async {
        await ProcrastinateCommand.main(commands: [Greet.self]) { connector in
            let app = App(connector: connector, logger: connector.logger)
            _ = try app.task("locked") { (arguments: Locked, context: JobContext) in
                let start = Date().timeIntervalSince1970
                try await Task.sleep(for: .milliseconds(arguments.sleepMilliseconds))
                let end = Date().timeIntervalSince1970
                emit("RAN \(context.job.lock ?? "-") \(context.job.id) \(start) \(end)")
            }
            _ = try app.task("sleepy") { (arguments: Sleepy, context: JobContext) in
                emit("STARTED \(context.job.id)")
                try await Task.sleep(for: .seconds(arguments.seconds))
                emit("FINISHED \(context.job.id)")
            }
            // Each execution, for the chaos tests: `BEGIN|END job attempts lock pid time`.
            _ = try app.task("chaos") { (arguments: Chaos, context: JobContext) in
                let job = "\(context.job.id) \(context.job.attempts) \(context.job.lock ?? "-") \(getpid())"
                emit("BEGIN \(job) \(Date().timeIntervalSince1970)")
                try await Task.sleep(for: .milliseconds(arguments.milliseconds))
                emit("END \(job) \(Date().timeIntervalSince1970)")
            }
            // The limit tests': `KEYED tenant job begin end`, `RATED job time`, `PAUSABLE job time`.
            _ = try app.task("tenant", keyLimit: Limit(concurrency: 3), limitKey: { (job: Tenant) in "tenant:\(job.tenant)" }) {
                (arguments: Tenant, context: JobContext) in
                let begin = Date().timeIntervalSince1970
                try await Task.sleep(for: .milliseconds(arguments.milliseconds))
                emit("KEYED \(arguments.tenant) \(context.job.id) \(begin) \(Date().timeIntervalSince1970)")
            }
            _ = try app.task("rated", limit: Limit(rate: Limit.Rate(50, per: .seconds(1)))) { (_: NoArguments, context: JobContext) in
                emit("RATED \(context.job.id) \(Date().timeIntervalSince1970)")
            }
            // The liveness tests': limits set by the operator (`BOUNDED job begin end`, `PACED job time`).
            _ = try app.task("bounded") { (arguments: Chaos, context: JobContext) in
                let begin = Date().timeIntervalSince1970
                try await Task.sleep(for: .milliseconds(arguments.milliseconds))
                emit("BOUNDED \(context.job.id) \(begin) \(Date().timeIntervalSince1970)")
            }
            _ = try app.task("paced") { (_: NoArguments, context: JobContext) in
                emit("PACED \(context.job.id) \(Date().timeIntervalSince1970)")
            }
            _ = try app.task("pausable", queue: "pausable") { (arguments: Chaos, context: JobContext) in
                emit("PAUSABLE \(context.job.id) \(Date().timeIntervalSince1970)")
                try await Task.sleep(for: .milliseconds(arguments.milliseconds))
            }
            _ = try app.task("typed") { (_: Typed) in }
            // Logs through the job's logger and through a logger of the application's own.
            _ = try app.task("chatty") { (_: NoArguments, context: JobContext) in
                context.logger.info("chatty says hi")
                Logger(label: "test-worker").info("the application's own logger says hi")
            }
            if ProcessInfo.processInfo.environment["TEST_WORKER_PERIODIC"] != nil {
                let tick = try app.task("tick") { (_: Tick) in }
                try app.periodic(tick, cron: "* * * * * *")
            }
            return app
        }
    }
}
