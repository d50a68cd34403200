import Foundation
import Synchronization
import Testing

@testable import Procrastinate

/// Worker processes of the test executable (`Tests/TestWorker`) on a private cluster, which a
/// chaos test kills, pauses and replaces, and the executions their `chaos` jobs recorded.
final class ChaosFleet: Sendable {
    /// One run of one job, as its process printed it.
    struct Execution: Sendable, CustomStringConvertible {
        var job: Int64
        var attempts: Int
        var lock: String?
        var pid: Int32
        var began: Double
        /// When it printed its end; nil when it never did (killed or stopped).
        var ended: Double?

        var description: String { "job \(job) attempt \(attempts) in \(pid) from \(began) to \(ended.map { "\($0)" } ?? "-")" }
    }

    private struct State {
        var processes: [BackgroundProcess] = []
        /// Killed processes, with when.
        var killed: [Int32: Double] = [:]
    }

    let cluster: PrivateCluster
    let arguments: [String]
    let environment: [String: String]
    private let state = Mutex(State())

    /// A fleet whose workers run `worker` with `arguments`.
    init(cluster: PrivateCluster, arguments: [String], environment: [String: String] = [:]) {
        self.cluster = cluster
        self.arguments = arguments
        self.environment = ProcessInfo.processInfo.environment.merging(
            ["PROCRASTINATE_DATABASE_URL": cluster.url, "PROCRASTINATE_LOG_LEVEL": "warning"].merging(environment) { $1 }
        ) { $1 }
    }

    /// Starts one more worker process; returns it.
    @discardableResult
    func start() throws -> BackgroundProcess {
        let process = try BackgroundProcess("TestWorker", ["worker"] + arguments, environment: environment)
        state.withLock { $0.processes.append(process) }
        return process
    }

    /// The processes started and not killed.
    var alive: [BackgroundProcess] {
        state.withLock { state in state.processes.filter { state.killed[$0.pid] == nil && $0.isRunning } }
    }

    /// SIGKILLs `process`, recording when.
    func kill(_ process: BackgroundProcess) {
        state.withLock { $0.killed[process.pid] = Date().timeIntervalSince1970 }
        process.send(SIGKILL)
    }

    /// Stops every live process with SIGTERM and waits for them.
    func stop() async throws {
        for process in alive {
            process.send(SIGCONT)
            process.send(SIGTERM)
        }
        for process in state.withLock({ $0.processes }) {
            try await process.exited(within: .seconds(60))
        }
    }

    /// What every process logged, for a failing test's message.
    var logs: String { state.withLock { $0.processes.map { "\($0.pid): \($0.errorOutput.suffix(3000))" }.joined(separator: "\n") } }

    /// When each killed process was killed.
    var killed: [Int32: Double] { state.withLock { $0.killed } }

    /// Every execution printed so far, by job then start.
    var executions: [Execution] {
        var runs: [String: Execution] = [:]
        for process in state.withLock({ $0.processes }) {
            for line in process.lines {
                let fields = line.split(separator: " ").map(String.init)
                guard fields.count == 6, fields[0] == "BEGIN" || fields[0] == "END",
                    let job = Int64(fields[1]), let attempts = Int(fields[2]), let pid = Int32(fields[4]), let time = Double(fields[5])
                else { continue }
                let key = "\(job) \(attempts) \(pid)"
                if fields[0] == "BEGIN" {
                    runs[key] = Execution(job: job, attempts: attempts, lock: fields[3] == "-" ? nil : fields[3], pid: pid, began: time)
                } else {
                    runs[key]?.ended = time
                }
            }
        }
        return runs.values.sorted { ($0.job, $0.began) < ($1.job, $1.began) }
    }

    /// Problems with the executions: a job run again although its earlier run was not in a
    /// killed process (one killed after the run ended, before its outcome was recorded, counts),
    /// or (when `exact`) run more than once at all; two runs of one lock that
    /// overlap (a killed run lasting until its kill, an unfinished live one until `now`).
    func violations(exact: Bool = false, now: Double = Date().timeIntervalSince1970) -> [String] {
        let executions = executions
        let killed = killed
        var problems: [String] = []
        for (job, runs) in Dictionary(grouping: executions, by: \.job) where runs.count > 1 {
            let earlier = runs.dropLast()
            if exact || earlier.contains(where: { killed[$0.pid] == nil }) {
                problems.append("job \(job) ran \(runs.count) times: \(runs)")
            }
        }
        for (lock, runs) in Dictionary(grouping: executions.filter { $0.lock != nil }, by: { $0.lock! }) {
            let spans = runs.map { run in (run, run.began, run.ended ?? killed[run.pid] ?? now) }.sorted { $0.1 < $1.1 }
            for (first, second) in zip(spans, spans.dropFirst()) where second.1 < first.2 {
                problems.append("lock \(lock): \(first.0) overlaps \(second.0)")
            }
        }
        return problems
    }

    /// Kills every process left, at the end of a test.
    func destroy() {
        for process in state.withLock({ $0.processes }) where process.isRunning {
            process.send(SIGKILL)
        }
    }
}

/// A test's own cluster holding the schema, destroyed afterwards.
func withChaosCluster<Result: Sendable>(
    settings: [String] = [], _ body: (PrivateCluster, PostgresConnector) async throws -> Result
) async throws -> Result {
    let cluster = try PrivateCluster(settings: settings)
    defer { cluster.destroy() }
    let connector = PostgresConnector(
        settings: try ConnectionSettings(url: cluster.url), queryTimeout: .seconds(3), logger: TestDatabase.logger
    )
    return try await connector.run { connector in
        try await SchemaManager(connector: connector).apply()
        return try await body(cluster, connector)
    }
}

/// Prints a figure of a chaos test, for its report.
func report(_ line: String) {
    print("CHAOS \(line)")
}
