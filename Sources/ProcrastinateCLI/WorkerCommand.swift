public import ArgumentParser
import Foundation
import Procrastinate

/// `procrastinate worker`: run a worker until SIGINT or SIGTERM.
struct WorkerCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "worker",
            abstract: "Run a worker: fetch jobs and run them until SIGINT or SIGTERM.",
            discussion: """
                Run it from your application's executable (ProcrastinateCommand.main { connector in … }) \
                so that it knows your tasks: it claims only their jobs. Every option can also come from PROCRASTINATE_WORKER_<OPTION> \
                (PROCRASTINATE_WORKER_CONCURRENCY=10, PROCRASTINATE_WORKER_QUEUES=a,b, …).

                \(examples("worker --queues emails,reports --concurrency 10 --shutdown-graceful-timeout 30"))
                """
        )
    }

    enum Mode: String, EnumerableFlag {
        case wait, oneShot

        static func help(for value: Mode) -> ArgumentHelp? {
            switch value {
            case .wait: "Keep waiting for jobs (default)."
            case .oneShot: "Stop as soon as no job can be fetched."
            }
        }
    }

    @OptionGroup var global: GlobalOptions

    @Option(name: [.short, .long], help: "Name in logs and job contexts (default: worker).")
    var name: String?

    @Option(name: [.short, .long], help: "Comma-separated queues to fetch from (default: all).")
    var queues: String?

    @Option(name: [.short, .long], parsing: .unconditional, help: "Jobs run at the same time (default: 1).")
    var concurrency: Int?

    @Option(name: [.customShort("p"), .long], parsing: .unconditional, help: "Seconds between fetches when idle (default: 5).")
    var fetchJobPollingInterval: Double?

    @Option(name: [.customShort("a"), .long], parsing: .unconditional, help: "Seconds between checks for abort requests (default: 5).")
    var abortJobPollingInterval: Double?

    @Option(parsing: .unconditional, help: "Seconds running jobs may finish after a stop request before they are aborted (default: no limit).")
    var shutdownGracefulTimeout: Double?

    @Flag var mode: Mode?

    @Flag(name: [.customShort("l"), .long], inversion: .prefixedNo, help: "LISTEN for new jobs and abort requests (default: on).")
    var listenNotify: Bool?

    @Option(help: "Delete finished jobs' rows (default: never).")
    var deleteJobs: WorkerOptions.DeleteJobs?

    @Option(parsing: .unconditional, help: "Seconds between heartbeats (default: 10).")
    var updateHeartbeatInterval: Double?

    @Option(parsing: .unconditional, help: "At start, remove workers silent for this many seconds (default: 30).")
    var stalledWorkerTimeout: Double?

    @Option(parsing: .unconditional, help: "Retry the running jobs of workers silent for this many seconds; 0 turns it off (default: 300).")
    var stalledJobRecoveryThreshold: Double?

    @Option(parsing: .unconditional, help: "Times a stalled job of a task without retry strategy is retried before it fails; 0 fails it at once (default: 5).")
    var stalledJobRetries: Int?

    @Flag(help: "Claim jobs of tasks this executable does not know too, and fail them (Python Procrastinate's behaviour).")
    var claimUnknownTasks = false

    @Option(parsing: .unconditional, help: "Serve the worker's metrics in the Prometheus text format on this port of 127.0.0.1, at /metrics (default: off).")
    var metricsPort: Int?

    func run() async throws {
        let options = try workerOptions(environment: ProcessInfo.processInfo.environment)
        let metrics = try metricsPort.map { try WorkerMetricsEndpoint(port: $0) }
        try await global.withApp { app in
            guard app.hasOwnTasks else {
                throw CommandError(
                    "this executable has no tasks, so its worker would run nothing of yours (and with --claim-unknown-tasks "
                        + "it would fail every job): run the worker from your application's executable, which calls "
                        + "ProcrastinateCommand.main { connector in … } with an app holding your tasks"
                )
            }
            guard let metrics else { return try await app.workUntilStopped(options) }
            try await metrics.serving { try await app.workUntilStopped(options) }
        }
    }

    /// The options from the flags, else the environment, else the defaults.
    func workerOptions(environment: [String: String]) throws -> WorkerOptions {
        let env = EnvironmentOptions(prefix: "PROCRASTINATE_WORKER_", environment: environment)
        var options = WorkerOptions()
        if let value = name ?? env.string("NAME") { options.name = value }
        if let value = queues ?? env.string("QUEUES") {
            let list = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            options.queues = list.isEmpty ? nil : list
        }
        if let value = try concurrency ?? env.int("CONCURRENCY") {
            guard value > 0 else { throw CommandError("--concurrency must be at least 1, not \(value)") }
            options.concurrency = value
        }
        if let value = try fetchJobPollingInterval ?? env.double("FETCH_JOB_POLLING_INTERVAL") {
            options.fetchJobPollingInterval = try seconds(value, "--fetch-job-polling-interval")
        }
        if let value = try abortJobPollingInterval ?? env.double("ABORT_JOB_POLLING_INTERVAL") {
            options.abortJobPollingInterval = try seconds(value, "--abort-job-polling-interval")
        }
        if let value = try shutdownGracefulTimeout ?? env.double("SHUTDOWN_GRACEFUL_TIMEOUT") {
            options.shutdownGracefulTimeout = try seconds(value, "--shutdown-graceful-timeout")
        }
        if let mode {
            options.wait = mode == .wait
        } else if let value = try env.bool("WAIT") {
            options.wait = value
        }
        if let value = try listenNotify ?? env.bool("LISTEN_NOTIFY") { options.listenNotify = value }
        if let value = deleteJobs {
            options.deleteJobs = value
        } else if let text = env.string("DELETE_JOBS") {
            guard let value = WorkerOptions.DeleteJobs(rawValue: text) else {
                throw CommandError("PROCRASTINATE_WORKER_DELETE_JOBS must be never, successful or always, not '\(text)'")
            }
            options.deleteJobs = value
        }
        if let value = try updateHeartbeatInterval ?? env.double("UPDATE_HEARTBEAT_INTERVAL") {
            options.updateHeartbeatInterval = try seconds(value, "--update-heartbeat-interval")
        }
        if let value = try stalledWorkerTimeout ?? env.double("STALLED_WORKER_TIMEOUT") {
            options.stalledWorkerTimeout = try seconds(value, "--stalled-worker-timeout")
        }
        if let value = try stalledJobRecoveryThreshold ?? env.double("STALLED_JOB_RECOVERY_THRESHOLD") {
            options.stalledJobRecoveryThreshold = value == 0 ? nil : try seconds(value, "--stalled-job-recovery-threshold")
        }
        if let value = try stalledJobRetries ?? env.int("STALLED_JOB_RETRIES") {
            guard value >= 0 else { throw CommandError("--stalled-job-retries must be 0 or more, not \(value)") }
            options.stalledJobs = value == 0 ? .fail : .retry(upTo: value)
        }
        if claimUnknownTasks {
            options.claimUnknownTasks = true
        } else if let value = try env.bool("CLAIM_UNKNOWN_TASKS") {
            options.claimUnknownTasks = value
        }
        return options
    }

    private func seconds(_ value: Double, _ option: String) throws -> Duration {
        guard value >= 0, value.isFinite else { throw CommandError("\(option) must be a number of seconds, not \(value)") }
        return .milliseconds(Int64((value * 1000).rounded()))
    }
}

extension WorkerOptions.DeleteJobs: ExpressibleByArgument {}

/// Options read from `PREFIX_NAME` environment variables, with Procrastinate's spellings of
/// booleans (1/y/t/true and 0/n/f/false).
struct EnvironmentOptions {
    let prefix: String
    let environment: [String: String]

    func string(_ name: String) -> String? {
        environment[prefix + name].flatMap { $0.isEmpty ? nil : $0 }
    }

    func int(_ name: String) throws -> Int? {
        try string(name).map { text in
            guard let value = Int(text) else { throw CommandError("\(prefix + name) must be an integer, not '\(text)'") }
            return value
        }
    }

    func double(_ name: String) throws -> Double? {
        try string(name).map { text in
            guard let value = Double(text) else { throw CommandError("\(prefix + name) must be a number, not '\(text)'") }
            return value
        }
    }

    func bool(_ name: String) throws -> Bool? {
        try string(name).map { text in
            switch text.lowercased() {
            case "1", "y", "yes", "t", "true": return true
            case "0", "n", "no", "f", "false": return false
            default: throw CommandError("\(prefix + name) must be a boolean (1/0, y/n, t/f), not '\(text)'")
            }
        }
    }
}
