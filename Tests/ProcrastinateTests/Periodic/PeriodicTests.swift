import Foundation
import Logging
import PostgresNIO
import ProcrastinateTesting
import Synchronization
import Testing

@testable import Cron
@testable import Procrastinate

/// A clock tests move by hand; sleepers wake when it passes their deadline.
final class ManualClock: WallClock {
    private struct State {
        var now: Date
        var sleepers: [(deadline: Date, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state: Mutex<State>

    init(_ start: Date) {
        state = Mutex(State(now: start))
    }

    func now() -> Date { state.withLock { $0.now } }

    /// How many tasks are sleeping on the clock.
    var sleeping: Int { state.withLock { $0.sleepers.count } }

    func sleep(until deadline: Date) async throws {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                guard state.now < deadline else { return true }
                state.sleepers.append((deadline, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
        try Task.checkCancellation()
    }

    func set(_ date: Date) {
        let woken = state.withLock { state in
            state.now = date
            let due = state.sleepers.filter { $0.deadline <= date }
            state.sleepers.removeAll { $0.deadline <= date }
            return due.map(\.continuation)
        }
        woken.forEach { $0.resume() }
    }
}

struct Tick: Codable, Sendable {
    var timestamp: Int
}

struct CountryTick: Codable, Sendable {
    var timestamp: Int
    var country: String
}

/// Periodic tasks: registration, catch-up, ticks while running, time zones, deduplication.
@Suite struct PeriodicTests {
    static func iso(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    /// The tick timestamps of the jobs of `task`, in order.
    func ticks(_ app: App, task: String) async throws -> [Int] {
        try await app.jobManager.listJobs(JobFilter(taskName: task)).map { job in
            try JSONDecoder().decode(Tick.self, from: Data(job.arguments.utf8)).timestamp
        }
    }

    func deferrer(_ app: App, clock: ManualClock, catchUp: PeriodicCatchUp = .latest) -> PeriodicDeferrer {
        PeriodicDeferrer(
            app: app, tasks: app.periodicTasks, clock: clock, maxDelay: .seconds(600), catchUp: catchUp, logger: TestDatabase.logger
        )
    }

    /// Runs `deferrer`, applies `steps` (each waits until the deferrer sleeps again), then stops it.
    func drive(_ deferrer: PeriodicDeferrer, clock: ManualClock, steps: [Date] = []) async throws {
        let running = Task { await deferrer.run() }
        try await eventually("the deferrer to sleep") { clock.sleeping == 1 }
        for date in steps {
            clock.set(date)
            try await eventually("the deferrer to sleep again") { clock.sleeping == 1 }
        }
        running.cancel()
        clock.set(Self.iso("9999-01-01T00:00:00Z"))
        await running.value
    }

    @Test(arguments: [(PeriodicCatchUp.latest, 1), (.all, 10)])
    func atStartMissedTicksWithinTheMaximumDelay(catchUp: PeriodicCatchUp, expected: Int) async throws {
        try await ConnectorKind.memory.withApp { app in
            let tick = try app.task("tick") { (_: Tick) in }
            try app.periodic(tick, cron: "* * * * *")
            let clock = ManualClock(Self.iso("2024-01-01T12:00:30Z"))
            try await drive(deferrer(app, clock: clock, catchUp: catchUp), clock: clock)
            let noon = Int(Self.iso("2024-01-01T12:00:00Z").timeIntervalSince1970)
            #expect(try await ticks(app, task: "tick") == (0..<expected).reversed().map { noon - 60 * $0 })
        }
    }

    @Test func aTickOlderThanTheMaximumDelayIsNotCaughtUp() async throws {
        try await ConnectorKind.memory.withApp { app in
            let tick = try app.task("tick") { (_: Tick) in }
            try app.periodic(tick, cron: "0 12 * * *")
            let clock = ManualClock(Self.iso("2024-01-01T12:20:30Z"))
            try await drive(deferrer(app, clock: clock), clock: clock)
            #expect(try await ticks(app, task: "tick").isEmpty)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func whileRunningEveryTickSinceTheLastIsDeferred(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let tick = try app.task("tick", queue: "ticks") { (_: Tick) in }
            try app.periodic(tick, cron: "* * * * *", priority: 4)
            let clock = ManualClock(Self.iso("2024-01-01T12:00:30Z"))
            // A busy worker wakes late: five ticks at once.
            try await drive(deferrer(app, clock: clock), clock: clock, steps: [Self.iso("2024-01-01T12:05:10Z")])
            let noon = Int(Self.iso("2024-01-01T12:00:00Z").timeIntervalSince1970)
            #expect(try await ticks(app, task: "tick") == (0...5).map { noon + 60 * $0 })
            let job = try #require(try await app.jobManager.listJobs().first)
            #expect(job.queue == "ticks" && job.priority == 4)
        }
    }

    @Test func extraArgumentsAndSeveralSchedulesOfOneTask() async throws {
        try await ConnectorKind.memory.withApp { app in
            let report = try app.task("report") { (_: CountryTick) in }
            try app.periodic(report, cron: "0 * * * *", periodicID: "fr", extraArguments: ["country": "fr"])
            try app.periodic(report, cron: "0 * * * *", periodicID: "de", extraArguments: ["country": "de"])
            let clock = ManualClock(Self.iso("2024-01-01T12:00:30Z"))
            try await drive(deferrer(app, clock: clock), clock: clock)
            let countries = try await app.jobManager.listJobs().map {
                try JSONDecoder().decode(CountryTick.self, from: Data($0.arguments.utf8)).country
            }
            #expect(countries.sorted() == ["de", "fr"])
        }
    }

    @Test(arguments: [CronSchedule.DSTPolicy.once, .croniter])
    func aZonedScheduleFollowsTheLocalClockAcrossDaylightSaving(dst: CronSchedule.DSTPolicy) async throws {
        try await ConnectorKind.memory.withApp { app in
            let tick = try app.task("tick") { (_: Tick) in }
            let newYork = try #require(TimeZone(identifier: "America/New_York"))
            try app.periodic(tick, cron: "30 1 * * *", periodicID: "fold", timeZone: newYork, dst: dst)
            let spring = try app.task("spring") { (_: Tick) in }
            try app.periodic(spring, cron: "30 2 * * *", timeZone: newYork, dst: dst)
            let clock = ManualClock(Self.iso("2024-03-09T12:00:00Z"))
            try await drive(deferrer(app, clock: clock), clock: clock, steps: [
                Self.iso("2024-03-11T12:00:00Z"), Self.iso("2024-11-02T12:00:00Z"), Self.iso("2024-11-04T12:00:00Z"),
            ])
            let schedule = CronSchedule(try CronExpression("* * * * *"), timeZone: newYork)
            let local = { (timestamps: [Int]) in timestamps.map { schedule.localTimeString(Date(timeIntervalSince1970: TimeInterval($0))) } }
            // Spring forward: 02:30 does not exist on the 10th and fires at 03:00.
            let around = { (days: [String]) in { (text: String) in days.contains { text.hasPrefix($0) } } }
            #expect(local(try await ticks(app, task: "spring")).filter(around(["2024-03-10", "2024-03-11"])) == [
                "2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00",
            ])
            let fold = local(try await ticks(app, task: "tick")).filter(around(["2024-11-03", "2024-11-04"]))
            #expect(fold == (dst == .once
                ? ["2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"]
                : ["2024-11-03T01:30:00-04:00", "2024-11-03T01:30:00-05:00", "2024-11-04T01:30:00-05:00"]))
        }
    }

    @Test func aTickBlockedByAQueueingLockIsSkipped() async throws {
        try await ConnectorKind.memory.withApp { app in
            let tick = try app.task("tick") { (_: Tick) in }
            try app.periodic(tick, cron: "* * * * *", queueingLock: "one")
            try await app.configureTask(name: "other", queueingLock: "one").defer([:])
            let clock = ManualClock(Self.iso("2024-01-01T12:00:30Z"))
            try await drive(deferrer(app, clock: clock), clock: clock, steps: [Self.iso("2024-01-01T12:02:00Z")])
            #expect(try await ticks(app, task: "tick").isEmpty)
        }
    }

    @Test func registrationIsCheckedEagerly() throws {
        let app = App(connector: InMemoryConnector())
        let tick = try app.task("tick") { (_: Tick) in }
        let wrong = try app.task("wrong") { (_: Sum) in }
        let cron = #expect(throws: InvalidPeriodicSchedule.self) { try app.periodic(tick, cron: "61 * * * *", periodicID: "hourly") }
        #expect(cron?.description == "the schedule '61 * * * *' of periodic task 'tick' (periodic id 'hourly'): minute: '61' at column 1: 61 is outside 0-59")
        let arguments = #expect(throws: ConfigurationError.self) { try app.periodic(wrong, cron: "* * * * *") }
        #expect(arguments?.description.hasSuffix(#"arguments of task 'wrong': missing key 'a'; received {"timestamp":0}"#) == true)
        try app.periodic(tick, cron: "* * * * *")
        let duplicate = #expect(throws: PeriodicTaskAlreadyRegistered.self) { try app.periodic(tick, cron: "0 * * * *") }
        #expect(duplicate?.description == "task 'tick' already has a schedule with periodic id ''; give each schedule of a task its own periodic id")
        try app.periodic(tick, cron: "H * * * *", periodicID: "hashed")
        #expect(app.periodicTasks.count == 2)
        let hashed = try CronExpression("H * * * *", options: .init(hashID: "tick|hashed"))
        #expect(app.periodicTasks[1].schedule.expression.fieldTexts == hashed.fieldTexts)
    }

    @Test func nicknamesMeanWhatTheyMeanInPythonsScheduler() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "crontabs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "@midnight tick --id=m\n@hourly tick --id=h\n".write(to: directory.appending(path: "a.crontab"), atomically: true, encoding: .utf8)
        let app = App(connector: InMemoryConnector())
        let tick = try app.task("tick") { (_: Tick) in }
        try app.periodic(tick, cron: "@daily")
        try app.loadCrontabs(directory: directory)
        let plain = { (text: String) in try CronExpression(text).fieldTexts }
        #expect(app.periodicTasks.map(\.schedule.expression.fieldTexts) == [
            try plain("0 0 * * *"), try plain("0 0 * * *"), try plain("0 * * * *"),
        ])
        #expect(app.periodicTasks.allSatisfy { $0.schedule.expression.lintWarnings.isEmpty }, "no lint warning for a nickname")
    }

    @Test func crontabsRegisterAgainstTheAppsTasksOrFailTogether() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "crontabs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "* * * * * tick\n0 * * * * nobody\n0 9 * * * report --id=fr {\"country\": \"fr\"}\n".write(
            to: directory.appending(path: "a.crontab"), atomically: true, encoding: .utf8
        )
        let app = App(connector: InMemoryConnector())
        _ = try app.task("tick") { (_: Tick) in }
        _ = try app.task("report") { (_: CountryTick) in }
        let error = #expect(throws: CrontabErrors.self) { try app.loadCrontabs(directory: directory) }
        #expect(error?.errors.map(\.location.line) == [2])
        #expect(error?.description.contains("a.crontab:2:1: unknown task 'nobody'") == true)
        #expect(app.periodicTasks.isEmpty)

        try "* * * * * tick\n0 9 * * * report --id=fr {\"country\": \"fr\"}\n".write(
            to: directory.appending(path: "a.crontab"), atomically: true, encoding: .utf8
        )
        try app.loadCrontabs(directory: directory)
        #expect(app.periodicTasks.map(\.taskName) == ["tick", "report"])
        #expect(app.periodicTasks[1].extraArguments == ["country": "fr"])
    }

    @Test func aCrontabLineNamingATaskByAnAliasHashesAsTheTaskRegisteredInCode() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "crontabs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "H H * * * old_tick --id=h\n".write(to: directory.appending(path: "a.crontab"), atomically: true, encoding: .utf8)
        let app = App(connector: InMemoryConnector())
        let tick = try app.task("tick", aliases: ["old_tick"]) { (_: Tick) in }
        let fromFile = try #require(try app.checkCrontabs(directory: directory).first)
        try app.periodic(tick, cron: "H H * * *", periodicID: "h")
        #expect(fromFile.taskName == "tick")
        #expect(fromFile.schedule.expression.fieldTexts == app.periodicTasks[0].schedule.expression.fieldTexts)
    }

    @Test func threeWorkersDeferEachTickOnce() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let tick = try app.task("every_second") { (_: Tick) in }
            try app.periodic(tick, cron: "* * * * * *")
            let workers = (0..<3).map { _ in RunningWorker(Worker(app: app, options: .test())) }
            try await eventually("12 ticks", timeout: .seconds(40)) {
                try await app.jobManager.listJobs(JobFilter(taskName: "every_second")).count >= 12
            }
            for worker in workers { try await worker.stop() }
            let timestamps = try await ticks(app, task: "every_second")
            #expect(Set(timestamps).count == timestamps.count, "a tick was deferred twice")
            let sorted = timestamps.sorted()
            #expect(zip(sorted, sorted.dropFirst()).allSatisfy { $1 == $0 + 1 }, "ticks are not consecutive: \(sorted)")
        }
    }
}

/// A Python scheduler and ours on one schedule and one database.
@Suite struct PeriodicInteropTests {
    @Test func pythonAndSwiftSchedulersDeferEachTickOnce() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let tick = try app.task("every_second") { (_: Tick) in }
            try app.periodic(tick, cron: "* * * * * *")
            let python = try PythonReference.start("periodic_worker.py", [try db.testURL, "8"])
            let swift = RunningWorker(Worker(app: app, options: .test()))
            #expect(try await python.exited(within: .seconds(60)) == 0, "\(python.errorOutput)")
            try await swift.stop()
            let timestamps = try await db.rows(
                "SELECT (args->>'timestamp')::bigint FROM procrastinate_jobs WHERE task_name = 'every_second' ORDER BY 1",
                as: Int64.self
            )
            // Python's function forgets every tick older than the one it defers, so ours skips a
            // tick it is late for once Python deferred a newer one: a gap is possible, a
            // duplicate never.
            #expect(timestamps.count >= 5)
            #expect(Set(timestamps).count == timestamps.count, "a tick was deferred twice: \(timestamps)")
            let unrecorded = try await db.value(
                """
                SELECT count(*)::int FROM procrastinate_periodic_defers
                LEFT JOIN procrastinate_jobs ON procrastinate_jobs.id = job_id
                WHERE (args->>'timestamp')::bigint IS DISTINCT FROM defer_timestamp
                """,
                as: Int.self
            )
            #expect(unrecorded == 0, "every record names the job of its tick")
        }
    }

    @Test func aDailyNicknameIsDeferredOncePerDayAtMidnightByBothSchedulers() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let report = try app.task("report") { (_: Tick) in }
            try app.periodic(report, cron: "@daily")
            let instants = ["2026-03-01T23:59:30Z", "2026-03-02T00:00:01Z", "2026-03-02T12:00:00Z", "2026-03-03T00:00:02Z"]
                .map(PeriodicTests.iso)
            // Both schedulers wake at each instant, ours first, as two workers of a fleet would.
            let clock = ManualClock(instants[0])
            let swift = Task { await PeriodicTests().deferrer(app, clock: clock).run() }
            for instant in instants {
                clock.set(instant)
                try await eventually("our scheduler to sleep") { clock.sleeping == 1 }
                let python = try PythonReference.start("periodic_at.py", [try db.testURL, "@daily", "report", "\(Int(instant.timeIntervalSince1970))"])
                #expect(try await python.exited(within: .seconds(60)) == 0, "\(python.errorOutput)")
            }
            swift.cancel()
            clock.set(PeriodicTests.iso("9999-01-01T00:00:00Z"))
            await swift.value
            let timestamps = try await db.rows(
                "SELECT (args->>'timestamp')::bigint FROM procrastinate_jobs WHERE task_name = 'report' ORDER BY id",
                as: Int64.self
            )
            let midnights = ["2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"].map { Int64(PeriodicTests.iso($0).timeIntervalSince1970) }
            #expect(timestamps == midnights, "one job per day, at midnight, whichever scheduler deferred it")
        }
    }

    @Test func aTickPythonForgetsWhileOursDecidesIsNotDeferredAgain() async throws {
        try await TestDatabase.withDatabase { db in
            let job = NewJob(queue: "periodic", taskName: "tick", arguments: "{}")
            let first = try await db.deferPeriodicJob(job, periodicID: "", timestamp: 60)
            #expect(first != nil)
            // Python's scheduler defers 61 and, in the same transaction, deletes the record of
            // 60; while that transaction is open, a late scheduler of ours looks at 60.
            let late = try await db.withTransaction { connection in
                _ = try await connection.query(
                    "SELECT procrastinate_defer_periodic_job_v2('periodic', NULL, NULL, 'tick', 0, '', 61, '{}')", logger: db.logger
                ).collect()
                let decided = Atomic(false)
                let late = Task {
                    defer { decided.store(true, ordering: .sequentiallyConsistent) }
                    return try await db.deferPeriodicJob(job, periodicID: "", timestamp: 60)
                }
                try await eventually("the late scheduler to decide, or to wait for Python's transaction") {
                    let waiting = try await db.value(
                        "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
                        as: Int.self
                    )
                    return decided.load(ordering: .sequentiallyConsistent) || waiting != 0
                }
                return late
            }
            #expect(try await late.value == nil, "tick 60 was deferred twice")
            #expect(try await db.value("SELECT count(*)::int FROM procrastinate_jobs", as: Int.self) == 2)
        }
    }
}
