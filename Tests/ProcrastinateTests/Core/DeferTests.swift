import Foundation
import Procrastinate
import Testing

/// Deferring through tasks, on both connectors.
@Suite struct DeferTests {
    func json(_ text: String) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary)
    }

    struct Labelled: Codable, Sendable {
        var count: Int
        var label: String?
        var inner: Inner?

        struct Inner: Codable, Sendable { var size: Int }
    }

    @Test func argumentsByNameAreCheckedForKeysTheTaskDoesNotReadEveryTime() async throws {
        try await ConnectorKind.memory.withApp { app in
            _ = try app.task("labelled") { (_: Labelled) in }
            let byName = try app.configureTask(name: "labelled")
            for _ in 0..<2 {
                try await byName.defer(["count": 1, "label": "a"])
                try await byName.defer(["count": 2, "inner": ["size": 3]])
                let typo = await #expect(throws: ArgumentsError.self) { try await byName.defer(["count": 1, "lable": "a"]) }
                #expect(typo?.codingPath == "lable")
                let nested = await #expect(throws: ArgumentsError.self) { try await byName.defer(["count": 1, "inner": ["size": 1, "colour": "red"]]) }
                #expect(nested?.codingPath == "inner.colour")
            }
            #expect(try await app.jobManager.listJobs().count == 4)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aDeferredJobCarriesTheTaskDefaultsAndItsArguments(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let sendEmail = try app.task("send_email", queue: "emails", priority: 3, lock: "mail") { (_: SendEmail) in }
            let id = try await sendEmail.defer(SendEmail(to: "a@b.c", subject: "Hi"))
            let job = try #require(try await app.jobManager.job(id: id))
            #expect(job.taskName == "send_email" && job.queue == "emails" && job.priority == 3 && job.lock == "mail")
            #expect(job.status == .todo && job.attempts == 0 && job.queueingLock == nil && job.scheduledAt == nil)
            #expect(try json(job.arguments) == ["to": "a@b.c", "subject": "Hi"])
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func configureOverridesEveryOption(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let sum = try app.task("sum") { (_: Sum) in }
            let at = Date(timeIntervalSince1970: 4_000_000_000)
            let id = try await sum.configure(
                queue: "math", priority: -2, lock: "l", queueingLock: "q", scheduleAt: at, extraArguments: ["b": 100, "c": "extra"]
            ).defer(Sum(a: 3, b: 5))
            let job = try #require(try await app.jobManager.job(id: id))
            #expect(job.queue == "math" && job.priority == -2 && job.lock == "l" && job.queueingLock == "q")
            #expect(job.scheduledAt == at)
            // Extra arguments are merged; the call's own win.
            #expect(try json(job.arguments) == ["a": 3, "b": 5, "c": "extra"])

            let before = Date()
            let later = try await sum.configure(scheduleIn: .seconds(60)).defer(Sum(a: 1, b: 1))
            let scheduled = try #require(try await app.jobManager.job(id: later)?.scheduledAt)
            #expect(scheduled >= before.addingTimeInterval(59) && scheduled <= Date().addingTimeInterval(61))
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func scheduleAtAndScheduleInTogetherAreRefused(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let sum = try app.task("sum") { (_: Sum) in }
            let error = await #expect(throws: ConfigurationError.self) {
                try await sum.configure(scheduleAt: Date(), scheduleIn: .seconds(1)).defer(Sum(a: 1, b: 2))
            }
            #expect(error?.description == "give scheduleAt or scheduleIn, not both (task 'sum')")
            #expect(try await app.jobManager.listJobs().isEmpty)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func batchDeferReturnsIdsInOrder(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let sum = try app.task("sum") { (_: Sum) in }
            let ids = try await sum.batchDefer([Sum(a: 1, b: 1), Sum(a: 2, b: 2), Sum(a: 3, b: 3)])
            #expect(ids.count == 3 && ids == ids.sorted())
            let jobs = try await app.jobManager.listJobs()
            #expect(try jobs.map { try json($0.arguments)["a"] as? Int } == [1, 2, 3])
            #expect(jobs.map(\.id) == ids)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aTakenQueueingLockInsertsNothing(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let sum = try app.task("sum", queueingLock: "only-one") { (_: Sum) in }
            try await sum.defer(Sum(a: 1, b: 1))
            let single = await #expect(throws: AlreadyEnqueued.self) { try await sum.defer(Sum(a: 2, b: 2)) }
            #expect(single?.queueingLock == "only-one")
            #expect(single?.description == "Job cannot be enqueued: there is already a job in the queue with the queueing lock only-one")

            let free = try app.task("free") { (_: Sum) in }
            let batch = await #expect(throws: AlreadyEnqueued.self) {
                try await free.configure(queueingLock: "other").batchDefer([Sum(a: 3, b: 3), Sum(a: 4, b: 4)])
            }
            #expect(batch?.queueingLock == "other")
            #expect(try await app.jobManager.listJobs().count == 1)
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func deferringByNameWithRawArguments(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            _ = try app.task("sum", queue: "math") { (_: Sum) in }
            let known = try await app.configureTask(name: "sum").defer(["a": 3, "b": 5])
            let unknown = try await app.configureTask(name: "elsewhere.task", queue: "py").defer(["x": [1, 2]])
            let jobs = try await app.jobManager.listJobs()
            #expect(jobs.map(\.id) == [known, unknown])
            #expect(jobs[0].queue == "math" && jobs[1].queue == "py" && jobs[1].taskName == "elsewhere.task")
            #expect(try json(jobs[1].arguments) == ["x": [1, 2]])

            let error = #expect(throws: UnknownTask.self) { try app.configureTask(name: "nope", allowUnknown: false) }
            #expect(error?.description == "unknown task 'nope' (registered: sum); register it, or allow unknown tasks (`--unknown` on the command line)")
        }
    }

    @Test(arguments: ConnectorKind.allCases)
    func aQueueNameTooLongForNotificationsIsRefusedBeforeSending(kind: ConnectorKind) async throws {
        try await kind.withApp { app in
            let sum = try app.task("sum") { (_: Sum) in }
            let name = String(repeating: "q", count: 41)
            let error = await #expect(throws: InvalidQueueName.self) { try await sum.configure(queue: name).defer(Sum(a: 1, b: 1)) }
            #expect(error?.description == "queue name '\(name)' is 41 bytes long; PostgreSQL notifications allow at most 40")
            #expect(try await app.jobManager.listJobs().isEmpty)
            // 40 bytes is fine.
            try await sum.configure(queue: String(repeating: "q", count: 40)).defer(Sum(a: 1, b: 1))
        }
    }

    @Test func argumentsThatAreNotAnObjectAreRefused() async throws {
        try await ConnectorKind.memory.withApp { app in
            let square = try app.task("square") { (_: Int) in }
            let error = await #expect(throws: ArgumentsError.self) { try await square.defer(4) }
            #expect(error?.description == "arguments of task 'square': arguments must encode to a JSON object (keyword arguments); received 4")
        }
    }

    @Test func tasksWithoutArguments() async throws {
        try await ConnectorKind.memory.withApp { app in
            let ping = try app.task("ping") { (_: NoArguments) in }
            let id = try await ping.defer()
            #expect(try await app.jobManager.job(id: id)?.arguments == "{}")
        }
    }
}
