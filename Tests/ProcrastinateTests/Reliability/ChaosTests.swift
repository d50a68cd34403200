import Foundation
import PostgresNIO
import Synchronization
import Testing

@testable import Procrastinate

/// Faults as production brings them, with real worker processes on a PostgreSQL cluster of the
/// test's own: workers killed and paused, the server restarted, crashed and down, every
/// connection terminated, malformed jobs. Each test asserts on what the jobs themselves
/// recorded. This is the short form; `scripts/chaos` runs the long one.
@Suite(.serialized, .enabled(if: PrivateCluster.isAvailable, "needs PostgreSQL's server binaries (PG_BIN)"))
struct ChaosTests {
    /// How much longer than the short form to run (`PROCRASTINATE_CHAOS_SCALE`, 1 by default):
    /// `scripts/chaos` runs 5, which kills 20 workers while 3,000 jobs run.
    static let scale = Int(ProcessInfo.processInfo.environment["PROCRASTINATE_CHAOS_SCALE"] ?? "") ?? 1

    /// Worker options of the fleets: quick heartbeats and thresholds, so that faults play out
    /// within seconds.
    static func workerArguments(
        concurrency: Int = 10, recoveryThreshold: Int = 3, stalledWorkerTimeout: Int = 2, polling: Int = 1
    ) -> [String] {
        [
            "--concurrency", "\(concurrency)", "--update-heartbeat-interval", "0.5", "--stalled-worker-timeout",
            "\(stalledWorkerTimeout)", "--stalled-job-recovery-threshold", "\(recoveryThreshold)", "--fetch-job-polling-interval",
            "\(polling)", "--shutdown-graceful-timeout", "10",
        ]
    }

    /// `count` chaos jobs of `shortest` to `shortest + 25` ms, one in `lockedOneIn` of them on one of five locks.
    static func chaosJobs(_ count: Int, lockedOneIn: Int = 5, shortest: Int = 5) -> [NewJob] {
        (0..<count).map { index in
            NewJob(
                queue: "default", taskName: "chaos", lock: index % lockedOneIn == 0 ? "lock-\(index % 5)" : nil,
                arguments: #"{"milliseconds": \#(shortest + index % 26)}"#
            )
        }
    }

    static func succeeded(_ db: PostgresConnector) async throws -> Int {
        try await db.value("SELECT count(*)::int FROM procrastinate_jobs WHERE status = 'succeeded'", as: Int.self) ?? 0
    }

    @Test func anOutageIsLoggedOnceAsItStartsAndOnceAsItEndsNotAtEveryAttempt() async throws {
        let logs = CapturedLogs()
        let cluster = try PrivateCluster()
        defer { cluster.destroy() }
        let connector = PostgresConnector(settings: try ConnectionSettings(url: cluster.url), queryTimeout: .seconds(2), logger: logs.logger)
        try await connector.run { connector in
            try await SchemaManager(connector: connector).apply()
            let app = App(connector: connector, logger: logs.logger)
            _ = try app.task("noop") { (_: NoArguments) in }
            let worker = RunningWorker(Worker(app: app, options: .test(concurrency: 4)))
            try await eventually("the worker to listen") { worker.worker.isListening }
            try cluster.stop("fast")
            // Every loop keeps trying (the listener every second at most, the heartbeat every
            // 200 ms, claims at each poll): many failures, told once.
            try await eventually("twenty failed attempts", timeout: .seconds(30)) {
                logs.messages(atLeast: .debug).count { $0.contains("failed") || $0.contains("Fetching jobs") } >= 20
            }
            let warnings = logs.messages(atLeast: .warning)
            #expect(warnings.count == 1, "\(warnings.joined(separator: "\n"))")
            #expect(warnings.first?.hasPrefix("The database is unreachable (") == true)
            try cluster.start()
            try await eventually("the worker to say the database answers again", timeout: .seconds(30)) {
                logs.messages(atLeast: .info).contains { $0.hasPrefix("The database answers again, after ") }
            }
            try await worker.stop()
        }
    }

    @Test func killingRandomWorkersLosesNoJobAndRerunsOnlyKilledRuns() async throws {
        try await withChaosCluster { cluster, db in
            let fleet = ChaosFleet(cluster: cluster, arguments: Self.workerArguments())
            defer { fleet.destroy() }
            let total = 600 * Self.scale
            _ = try await db.deferJobs(Self.chaosJobs(total, shortest: 60))
            for _ in 0..<3 { try fleet.start() }
            var kills = 0
            while try await Self.succeeded(db) < total * 4 / 5, kills < 4 * Self.scale {
                try await Task.sleep(for: .milliseconds(400))
                guard let victim = fleet.alive.randomElement() else { break }
                fleet.kill(victim)
                kills += 1
                try fleet.start()
            }
            try await eventually("every job to succeed", timeout: .seconds(60 * Self.scale)) { try await Self.succeeded(db) == total }
            try await fleet.stop()
            let runs = fleet.executions
            #expect(Set(runs.map(\.job)).count == total)
            #expect(fleet.violations().isEmpty, "\(fleet.violations())\n\(fleet.logs)")
            report("kills: \(total) jobs, \(kills) workers killed, \(runs.count - total) runs again (all of killed runs), lost 0")
        }
    }

    @Test func aWorkerPausedPastTheStalledWorkerTimeoutKeepsItsJobsAndWorksOn() async throws {
        try await withChaosCluster { cluster, db in
            let arguments = Self.workerArguments(concurrency: 5, recoveryThreshold: 20)
            let fleet = ChaosFleet(cluster: cluster, arguments: arguments)
            defer { fleet.destroy() }
            let long = (0..<5).map { NewJob(queue: "default", taskName: "chaos", lock: "L\($0)", arguments: #"{"milliseconds": 6000}"#) }
            let first = try await db.deferJobs(long)
            let paused = try fleet.start()
            try await eventually("the first worker to start its five jobs") { fleet.executions.count == 5 }
            paused.send(SIGSTOP)
            // Silent past the stalled worker timeout, the second worker prunes it at its start.
            try await eventually("the paused worker to look stalled", timeout: .seconds(20)) {
                try await db.value(
                    "SELECT count(*)::int FROM procrastinate_workers WHERE last_heartbeat < now() - interval '2.5 seconds'", as: Int.self
                ) == 1
            }
            let other = try fleet.start()
            try await eventually("the paused worker to be pruned") {
                try await db.value("SELECT count(*)::int FROM procrastinate_swift_orphaned_jobs", as: Int.self) == 5
            }
            let next = try await db.deferJobs((0..<5).map { NewJob(queue: "default", taskName: "chaos", lock: "L\($0)", arguments: #"{"milliseconds": 50}"#) })
            paused.send(SIGCONT)
            try await eventually("every job to succeed", timeout: .seconds(40)) { try await Self.succeeded(db) == 10 }
            // Each ran once, the first five in the paused worker, and no two of a lock at once.
            #expect(fleet.violations(exact: true).isEmpty, "\(fleet.violations(exact: true))")
            #expect(Set(fleet.executions.filter { first.contains($0.job) }.map(\.pid)) == [paused.pid])
            #expect(Set(fleet.executions.map(\.job)) == Set(first + next))
            // The paused worker works again once it is alone.
            other.send(SIGTERM)
            #expect(try await other.exited() == 0)
            let later = try await db.deferJobs(Self.chaosJobs(5, lockedOneIn: 1))
            try await eventually("the resumed worker to run new jobs") { try await Self.succeeded(db) == 15 }
            #expect(Set(fleet.executions.filter { later.contains($0.job) }.map(\.pid)) == [paused.pid])
            try await fleet.stop()
            #expect(paused.errorOutput.contains("registered again"), "\(paused.errorOutput)")
        }
    }

    @Test func aWorkerPausedPastTheRecoveryThresholdLosesItsJobAndRecordsNothing() async throws {
        try await withChaosCluster { cluster, db in
            let fleet = ChaosFleet(cluster: cluster, arguments: Self.workerArguments(concurrency: 2, recoveryThreshold: 3))
            defer { fleet.destroy() }
            let id = try await db.deferJobs([NewJob(queue: "default", taskName: "chaos", lock: "L", arguments: #"{"milliseconds": 8000}"#)])[0]
            let paused = try fleet.start()
            try await eventually("the job to start") { fleet.executions.count == 1 }
            paused.send(SIGSTOP)
            let rescuer = try fleet.start()
            try await eventually("another worker to recover and run the job", timeout: .seconds(30)) {
                fleet.executions.contains { $0.pid == rescuer.pid }
            }
            paused.send(SIGCONT)
            try await eventually("the job to succeed", timeout: .seconds(30)) { try await Self.succeeded(db) == 1 }
            try await eventually("the resumed worker to learn it lost the job") {
                paused.errorOutput.contains("was recovered by another worker")
            }
            try await fleet.stop()
            let runs = fleet.executions
            // The late run was stopped before it ended and recorded nothing: one success, the rescuer's.
            #expect(runs.first { $0.pid == paused.pid }?.ended == nil, "\(runs)")
            #expect(runs.first { $0.pid == rescuer.pid }?.ended != nil, "\(runs)")
            #expect(try await db.events(id).filter { $0 == "succeeded" }.count == 1)
            #expect(try await db.jobState(id)?.attempts == 2)
        }
    }

    /// Defers one job at a time until stopped, recording the acknowledged ids and the errors.
    final class Producer: Sendable {
        private let state = Mutex((acknowledged: [Int64](), errors: [String]()))
        private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

        var acknowledged: [Int64] { state.withLock { $0.acknowledged } }
        var errors: [String] { state.withLock { $0.errors } }

        func start(_ db: PostgresConnector) {
            let task = Task {
                var count = 0
                while !Task.isCancelled {
                    count += 1
                    // One job in four on one of three locks.
                    let job = NewJob(
                        queue: "default", taskName: "chaos", lock: count % 4 == 0 ? "lock-\(count % 3)" : nil,
                        arguments: #"{"milliseconds": 10}"#
                    )
                    do {
                        // Bounded by the connector: a defer fails (or succeeds) within seconds, never hangs.
                        let ids = try await within(.seconds(20), waitingFor: "a defer to return") { try await db.deferJobs([job]) }
                        state.withLock { $0.acknowledged += ids }
                    } catch is DeadlineExceeded {
                        state.withLock { $0.errors.append("HUNG") }
                    } catch where !Task.isCancelled {
                        state.withLock { $0.errors.append("\(error)") }
                        try? await Task.sleep(for: .milliseconds(100))
                    } catch {
                        return
                    }
                    try? await Task.sleep(for: .milliseconds(5))
                }
            }
            self.task.withLock { $0 = task }
        }

        func stop() async {
            let task = self.task.withLock { $0 }
            task?.cancel()
            await task?.value
        }
    }

    /// Restarts (or stops and starts) the server, then reports how long the workers took to
    /// finish a job deferred once it answered again.
    static func outage(_ what: String, of cluster: PrivateCluster, db: PostgresConnector, fleet: ChaosFleet, _ fault: () throws -> Void) async throws {
        try fault()
        let back = ContinuousClock.now
        let probe = try await db.deferJobs([NewJob(queue: "default", taskName: "chaos", arguments: #"{"milliseconds": 1}"#)])[0]
        do {
            try await eventually("a job to run after the \(what)", timeout: .seconds(30)) {
                fleet.executions.contains { $0.job == probe && $0.ended != nil }
            }
        } catch {
            let jobs = try? await db.value(
                "SELECT string_agg(status || ': ' || n, ', ') FROM (SELECT status::text, count(*) AS n FROM procrastinate_jobs GROUP BY 1) AS counts",
                as: String.self
            )
            Issue.record("\(fleet.alive.count) workers alive; jobs \(jobs ?? "unknown"); probe \(probe)\n\(fleet.logs)")
            throw error
        }
        report("\(what): the workers ran a new job \(ContinuousClock.now - back) after the server answered again")
    }

    @Test func serverRestartsCrashesAndOutagesLoseNoAcknowledgedJobAndRunNoneTwice() async throws {
        try await withChaosCluster { cluster, db in
            let fleet = ChaosFleet(cluster: cluster, arguments: Self.workerArguments(recoveryThreshold: 3))
            defer { fleet.destroy() }
            for _ in 0..<2 { try fleet.start() }
            let producer = Producer()
            producer.start(db)
            func load() async throws {
                let before = producer.acknowledged.count
                try await eventually("jobs to be deferred") { producer.acknowledged.count >= before + 50 * Self.scale }
            }
            try await load()
            try await Self.outage("fast restart", of: cluster, db: db, fleet: fleet) { try cluster.restart("fast") }
            try await load()
            try await Self.outage("crash (immediate restart)", of: cluster, db: db, fleet: fleet) { try cluster.restart("immediate") }
            try await load()
            // Down for twice the recovery threshold: every heartbeat is old when it comes back.
            try await Self.outage("6 s outage", of: cluster, db: db, fleet: fleet) {
                try cluster.stop("immediate")
                Thread.sleep(forTimeInterval: 6)
                try cluster.start()
            }
            try await load()
            await producer.stop()
            let acknowledged = producer.acknowledged
            try await eventually("every acknowledged job to succeed", timeout: .seconds(90)) {
                try await db.value(
                    "SELECT count(*)::int FROM procrastinate_jobs WHERE id = ANY(\(acknowledged)) AND status = 'succeeded'", as: Int.self
                ) == acknowledged.count
            }
            try await eventually("no job to be left doing", timeout: .seconds(30)) {
                try await db.value("SELECT count(*)::int FROM procrastinate_jobs WHERE status <> 'succeeded'", as: Int.self) == 0
            }
            try await fleet.stop()
            // No process died: every job ran exactly once, and no two of a lock at once.
            #expect(fleet.violations(exact: true).isEmpty, "\(fleet.violations(exact: true))\n\(fleet.logs)")
            let errors = producer.errors
            #expect(!errors.contains("HUNG"))
            #expect(errors.allSatisfy { !$0.contains("Generic description") && $0.contains("127.0.0.1") }, "\(errors)")
            report("outages: \(acknowledged.count) acknowledged defers, all succeeded, each ran once; \(errors.count) defers failed during the outages, e.g. \(errors.first ?? "-")")
        }
    }

    @Test func aWorkerStopsInBoundedTimeWhileTheServerIsDown() async throws {
        try await withChaosCluster { cluster, db in
            let fleet = ChaosFleet(cluster: cluster, arguments: Self.workerArguments(concurrency: 4) + ["--shutdown-graceful-timeout", "1"])
            defer { fleet.destroy() }
            let worker = try fleet.start()
            _ = try await db.deferJobs(Self.chaosJobs(8, lockedOneIn: 1, shortest: 3000))
            try await eventually("the jobs to start") { fleet.executions.count >= 4 }
            try cluster.stop("immediate")
            let stopping = ContinuousClock.now
            worker.send(SIGTERM)
            // Graceful timeout (1 s), outcomes given up after failing for 10 s (an attempt lasting
            // up to the 10 s query timeout), unregistering bounded by that timeout too.
            #expect(try await worker.exited(within: .seconds(60)) == 0, "\(worker.errorOutput)")
            report("shutdown with the server down: the worker exited \(ContinuousClock.now - stopping) after SIGTERM")
            try cluster.start()
        }
    }

    @Test func terminatingEveryBackendLeavesNotificationsWorking() async throws {
        try await withChaosCluster { cluster, db in
            // Polling once a minute: only a notification can start a job sooner.
            let fleet = ChaosFleet(cluster: cluster, arguments: Self.workerArguments(concurrency: 2, polling: 60))
            defer { fleet.destroy() }
            for _ in 0..<2 { try fleet.start() }
            try await eventually("both workers to listen") {
                try await db.value("SELECT count(*)::int FROM pg_stat_activity WHERE query LIKE 'LISTEN%'", as: Int.self) ?? 0 >= 2
            }
            for round in 0..<3 {
                let killedAt = ContinuousClock.now
                try await db.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'postgres' AND pid <> pg_backend_pid()"
                )
                let id = try await db.deferJobs([NewJob(queue: "default", taskName: "chaos", arguments: #"{"milliseconds": 1}"#)])[0]
                try await eventually("the job deferred after the kill to run (round \(round))", timeout: .seconds(30)) {
                    fleet.executions.contains { $0.job == id && $0.ended != nil }
                }
                report("backend kill \(round): a new job ran \(ContinuousClock.now - killedAt) after every backend was terminated")
            }
            try await fleet.stop()
        }
    }

    @Test func killedSchedulerReplicasDeferEachTickOnceWithoutGaps() async throws {
        try await withChaosCluster { cluster, db in
            let fleet = ChaosFleet(
                cluster: cluster, arguments: Self.workerArguments(concurrency: 2), environment: ["TEST_WORKER_PERIODIC": "1"]
            )
            defer { fleet.destroy() }
            for _ in 0..<3 { try fleet.start() }
            for _ in 0..<4 * Self.scale {
                try await Task.sleep(for: .seconds(2))
                if let victim = fleet.alive.randomElement() { fleet.kill(victim) }
                try fleet.start()
            }
            try await fleet.stop()
            let ticks = try await db.rows(
                "SELECT (args->>'timestamp')::bigint, count(*)::int FROM procrastinate_jobs WHERE task_name = 'tick' GROUP BY 1 ORDER BY 1",
                as: (Int64, Int).self
            )
            #expect(ticks.count >= 6)
            #expect(ticks.allSatisfy { $0.1 == 1 }, "\(ticks)")
            let first = try #require(ticks.first?.0)
            #expect(ticks.map(\.0) == Array(first..<first + Int64(ticks.count)), "gaps: \(ticks.map(\.0))")
            report("schedulers: 3 replicas, \(4 * Self.scale) killed and replaced, \(ticks.count) ticks, each deferred once, no gap")
        }
    }

    @Test func malformedJobsFailClearlyAndTheWorkerRunsTheRest() async throws {
        try await withChaosCluster { cluster, db in
            let fleet = ChaosFleet(cluster: cluster, arguments: Self.workerArguments(concurrency: 4))
            defer { fleet.destroy() }
            let blob = String(repeating: "x", count: 5_000_000)
            let raw: [(task: String, queue: String, args: String)] = [
                ("nobody_knows", "default", "{}"), ("typed", "default", #"{"count": "many"}"#), ("typed", "default", "[1, 2]"),
                ("typed", "default", #"{"count": 1, "blob": "\#(blob)"}"#), ("typed", "очередь", #"{"count": 2}"#),
            ]
            var ids: [Int64] = []
            for job in raw {
                ids.append(try await db.deferJob(queue: job.queue, task: job.task, args: job.args))
            }
            let good = try await db.deferJobs(Self.chaosJobs(20))
            let worker = try fleet.start()
            try await eventually("the good jobs to succeed") { try await Self.succeeded(db) == 22 }
            try await eventually("the malformed ones to fail") {
                try await db.value("SELECT count(*)::int FROM procrastinate_jobs WHERE status = 'failed'", as: Int.self) == 2
            }
            #expect(worker.isRunning)
            // The unknown task's job is left to a worker that knows its task.
            let statuses = try await ids.asyncMap { try await db.jobState($0)?.status }
            #expect(statuses == ["todo", "failed", "failed", "succeeded", "succeeded"])
            #expect(try await good.asyncMap { try await db.jobState($0)?.status } == Array(repeating: "succeeded", count: 20))
            try await fleet.stop()
            #expect(worker.errorOutput.contains("arguments of task 'typed' at 'count'"), "\(worker.errorOutput.prefix(2000))")
        }
    }
}
