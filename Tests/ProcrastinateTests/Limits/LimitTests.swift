import Foundation
import Procrastinate
import Testing

/// Concurrency limits, rate limits and paused queues, on both connectors: what a claim takes,
/// and what it passes over.
@Suite struct LimitTests {
    struct Tenant: Codable, Sendable {
        var tenant: Int
    }

    /// Claims up to `limit` jobs for worker `workerID` (a worker of every queue and task).
    private func claim(_ app: App, _ limit: Int = 10, queues: [String]? = nil) async throws -> [Job] {
        try await app.connector.fetchJobs(queues: queues, workerID: nil, limit: limit)
    }

    @Test(arguments: ConnectorKind.allCases)
    func aQueueLimitCapsItsRunningJobsAndPassesOverItsWaitingOnes(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let limited = try app.task("limited", queue: "api", priority: 5) { (_: Sum) in }
            let free = try app.task("free", queue: "other") { (_: Sum) in }
            try await app.jobManager.setLimit(Limit(concurrency: 2), for: .queue("api"))
            let apiJobs = try await limited.batchDefer((0..<5).map { Sum(a: $0, b: 0) })
            let otherJobs = try await free.batchDefer((0..<2).map { Sum(a: $0, b: 0) })

            // The queue's best two, then the other queue's jobs behind its waiting ones.
            let first = try await claim(app)
            #expect(first.map(\.id) == Array(apiJobs.prefix(2)) + otherJobs)
            #expect(try await claim(app).isEmpty)

            // A job ending frees its slot; a retry does too.
            try await app.connector.finishJob(id: apiJobs[0], status: .succeeded, deleteJob: false)
            #expect(try await claim(app).map(\.id) == [apiJobs[2]])
            try await app.connector.retryJob(id: apiJobs[1], at: Date(timeIntervalSinceNow: 3600), priority: nil, queue: nil, lock: nil)
            #expect(try await claim(app).map(\.id) == [apiJobs[3]])

            let usage = try await app.jobManager.limits()
            #expect(usage == [LimitUsage(target: .queue("api"), limit: Limit(concurrency: 2), running: 2, waiting: 2, recentStarts: 0)])
            #expect(try await app.connector.jobsDelayedByLimits(queues: nil, taskNames: nil) == 2)
            #expect(try await app.connector.jobsDelayedByLimits(queues: ["other"], taskNames: nil) == 0)

            // Removed, the limit no longer holds jobs back.
            try await app.jobManager.setLimit(nil, for: .queue("api"))
            #expect(try await claim(app).map(\.id) == [apiJobs[4]])
            #expect(try await app.jobManager.limits().isEmpty)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aTaskLimitCountsItsJobsInEveryQueue(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let report = try app.task("report", limit: Limit(concurrency: 1)) { (_: Sum) in }
            let other = try app.task("other") { (_: Sum) in }
            #expect(app.declaredLimits.map(\.target) == [.task("report")])
            try await app.jobManager.setLimit(Limit(concurrency: 1), for: .task("report"))
            let a = try await report.configure(queue: "one").defer(Sum(a: 1, b: 1))
            _ = try await report.configure(queue: "two").defer(Sum(a: 2, b: 2))
            let c = try await other.defer(Sum(a: 3, b: 3))
            #expect(try await claim(app).map(\.id) == [a, c])
            #expect(try await claim(app, queues: ["two"]).isEmpty)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aKeyLimitHoldsAcrossTasksAndAKeyGivenPerCallWins(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let sync = try app.task("sync", keyLimit: Limit(concurrency: 2), limitKey: { (tenant: Tenant) in "tenant:\(tenant.tenant)" }) { (_: Tenant) in }
            let export = try app.task("export", keyLimit: Limit(concurrency: 2)) { (_: Tenant) in }
            let one = try await sync.batchDefer([Tenant(tenant: 1), Tenant(tenant: 1), Tenant(tenant: 1), Tenant(tenant: 2)])
            let oneByHand = try await export.configure(limitKey: "tenant:1").defer(Tenant(tenant: 9))
            let unkeyed = try await export.defer(Tenant(tenant: 1))

            // Tenant 1: two of its four jobs (across both tasks); tenant 2 and the unkeyed job too.
            #expect(try await claim(app).map(\.id) == [one[0], one[1], one[3], unkeyed])
            try await app.connector.finishJob(id: one[0], status: .succeeded, deleteJob: false)
            #expect(try await claim(app).map(\.id) == [one[2]])
            try await app.connector.finishJob(id: one[1], status: .failed, deleteJob: false)
            #expect(try await claim(app).map(\.id) == [oneByHand])

            let keys = try await app.jobManager.limits().filter { $0.target.scope == "key" }
            #expect(keys.map(\.target) == [.key("tenant:1"), .key("tenant:2")])
            #expect(keys.map(\.running) == [2, 1])
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aKeyWithoutAKeyLimitIsRefused(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let plain = try app.task("plain") { (_: Sum) in }
            await #expect(throws: ConfigurationError.self) { try await plain.configure(limitKey: "k").defer(Sum(a: 1, b: 1)) }
            #expect(throws: ConfigurationError.self) {
                try app.task("keyed", limitKey: { (_: Sum) in "k" }) { (_: Sum) in }
            }
            #expect(throws: ConfigurationError.self) { try app.task("zero", limit: Limit(concurrency: 0)) { (_: Sum) in } }
            // Bounded where it is declared, not a crash where it is written.
            let huge = #expect(throws: ConfigurationError.self) { try app.task("huge", limit: Limit(concurrency: 99_999_999_999)) { (_: Sum) in } }
            #expect(huge?.description == "the concurrency limit of task 'huge' is 99999999999; it must be from 1 to 2147483647")
            await #expect(throws: ConfigurationError.self) {
                try await app.jobManager.setLimit(Limit(concurrency: 99_999_999_999), for: .key("k"))
            }
            await #expect(throws: ConfigurationError.self) { try await plain.configure(priority: 1 << 40).defer(Sum(a: 1, b: 1)) }
            #expect(throws: ConfigurationError.self) { try app.limit(queue: "q", Limit()) }
            await #expect(throws: ConfigurationError.self) {
                try await app.jobManager.setLimit(Limit(rate: Limit.Rate(5, per: .zero)), for: .queue("q"))
            }
            #expect(try await app.jobManager.listJobs().isEmpty)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aRateLimitStartsAtMostItsCountPerPeriodAndSaysWhenItOpens(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let call = try app.task("call", limit: Limit(rate: Limit.Rate(3, per: .seconds(3600), burst: 3))) { (_: Sum) in }
            try await app.jobManager.setLimit(call.definition.options.limit, for: .task("call"))
            let ids = try await call.batchDefer((0..<5).map { Sum(a: $0, b: 0) })
            #expect(try await claim(app, 2).map(\.id) == Array(ids.prefix(2)))
            #expect(try await claim(app).map(\.id) == [ids[2]])
            // Finishing frees no start: the window counts starts, not running jobs.
            for id in ids.prefix(3) { try await app.connector.finishJob(id: id, status: .succeeded, deleteJob: false) }
            #expect(try await claim(app).isEmpty)
            let opensIn = try #require(try await app.connector.nextScheduledJob(queues: nil, taskNames: nil, scheduledAfter: Date().addingTimeInterval(-1)))
            #expect(opensIn > .seconds(3500) && opensIn <= .seconds(3600))
            #expect(try await app.jobManager.limits().map(\.recentStarts) == [3])
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aRateIsPacedByItsBurst(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            // 20 an hour, 2 at once: at most 2 starts in any 6 minutes.
            let call = try app.task("call", limit: Limit(rate: Limit.Rate(20, per: .seconds(3600)))) { (_: Sum) in }
            #expect(call.definition.options.limit?.rate?.burst == 2)
            try await app.jobManager.setLimit(call.definition.options.limit, for: .task("call"))
            let ids = try await call.batchDefer((0..<5).map { Sum(a: $0, b: 0) })
            #expect(try await claim(app).map(\.id) == Array(ids.prefix(2)))
            #expect(try await claim(app).isEmpty)
            let opensIn = try #require(try await app.connector.nextScheduledJob(queues: nil, taskNames: nil, scheduledAfter: Date().addingTimeInterval(-1)))
            #expect(opensIn > .seconds(300) && opensIn <= .seconds(360))
            await #expect(throws: ConfigurationError.self) {
                try await app.jobManager.setLimit(Limit(rate: Limit.Rate(5, per: .seconds(1), burst: 6)), for: .task("call"))
            }
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aPausedQueueIsNotClaimedUntilResumedAndItsRunningJobsGoOn(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let work = try app.task("work", queue: "busy") { (_: Sum) in }
            let running = try await work.defer(Sum(a: 1, b: 1))
            #expect(try await claim(app, 1).map(\.id) == [running])
            let waiting = try await work.defer(Sum(a: 2, b: 2))
            #expect(try await app.jobManager.pause(queue: "busy"))
            #expect(try await app.jobManager.pause(queue: "busy") == false)
            #expect(try await app.jobManager.pausedQueues().map(\.name) == ["busy"])
            #expect(try await claim(app).isEmpty)
            #expect(try await claim(app, queues: ["busy"]).isEmpty)
            try await app.connector.finishJob(id: running, status: .succeeded, deleteJob: false)
            #expect(try await app.jobManager.resume(queue: "busy"))
            #expect(try await app.jobManager.resume(queue: "busy") == false)
            #expect(try await claim(app).map(\.id) == [waiting])
            #expect(try await app.jobManager.pausedQueues().isEmpty)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aDeadWorkersJobCountsUntilStalledJobRecoveryTakesIt(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let work = try app.task("work", queue: "solo") { (_: Sum) in }
            try await app.jobManager.setLimit(Limit(concurrency: 1), for: .queue("solo"))
            let ids = try await work.batchDefer([Sum(a: 1, b: 1), Sum(a: 2, b: 2)])
            let dead = try await app.connector.registerWorker()
            let held = try await app.connector.fetchJobs(queues: nil, workerID: dead, limit: 10)
            #expect(held.map(\.id) == [ids[0]])
            #expect(try await claim(app).isEmpty)
            try await app.connector.unregisterWorker(id: dead)
            let stalled = try await app.connector.stalledJobs(secondsSinceHeartbeat: 0, queue: nil, taskName: nil)
            #expect(stalled.map(\.id) == [ids[0]])
            #expect(try await app.connector.recoverStalledJob(stalled[0], staleAfter: 0, excludingWorker: nil, decision: nil))
            #expect(try await claim(app).map(\.id) == [ids[1]])
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aLockedJobWaitsForBothItsLockAndItsLimit(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let work = try app.task("work", queue: "q") { (_: Sum) in }
            try await app.jobManager.setLimit(Limit(concurrency: 2), for: .queue("q"))
            let a1 = try await work.configure(lock: "a").defer(Sum(a: 1, b: 1))
            _ = try await work.configure(lock: "a").defer(Sum(a: 2, b: 2))
            let b1 = try await work.configure(lock: "b").defer(Sum(a: 3, b: 3))
            let c1 = try await work.configure(lock: "c").defer(Sum(a: 4, b: 4))
            #expect(try await claim(app).map(\.id) == [a1, b1])
            try await app.connector.finishJob(id: b1, status: .succeeded, deleteJob: false)
            #expect(try await claim(app).map(\.id) == [c1])
        }
    }

    /// Claims at once on many connections never exceed a limit: each claim holds the rows of the
    /// limits it uses, and counts their running jobs after taking them.
    @Test(arguments: [false, true])
    func concurrentClaimsNeverExceedALimit(taskRate: Bool) async throws {
        try await ConnectorKind.postgres.withApp { app in
            let sync = try app.task("sync", keyLimit: Limit(concurrency: 3), limitKey: { (tenant: Tenant) in "tenant:\(tenant.tenant)" }) { (_: Tenant) in }
            let report = try app.task("report", queue: "reports") { (_: Sum) in }
            try await app.jobManager.setLimit(Limit(concurrency: 7), for: .queue("reports"))
            if taskRate {
                try await app.jobManager.setLimit(Limit(rate: Limit.Rate(11, per: .seconds(3600), burst: 11)), for: .task("sync"))
            }
            _ = try await sync.batchDefer((0..<300).map { Tenant(tenant: $0 % 5) })
            _ = try await report.batchDefer((0..<100).map { Sum(a: $0, b: 0) })

            let claimed = try await withThrowingTaskGroup(of: [Job].self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        var mine: [Job] = []
                        while true {
                            let jobs = try await app.connector.fetchJobs(queues: nil, workerID: nil, limit: 3)
                            if jobs.isEmpty { return mine }
                            mine += jobs
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(Set(claimed.map(\.id)).count == claimed.count)
            #expect(claimed.count { $0.queue == "reports" } == 7)
            // Five keys of three; with the task's rate (11), that binds first.
            #expect(claimed.count { $0.taskName == "sync" } == (taskRate ? 11 : 15))
            let keys = try await app.jobManager.limits().filter { $0.target.scope == "key" }
            #expect(keys.allSatisfy { $0.running <= 3 })
            #expect(keys.map(\.running).reduce(0, +) == (taskRate ? 11 : 15))
        }
    }
}
