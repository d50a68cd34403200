import Foundation
import Procrastinate
import ProcrastinateTesting
import Testing

/// One options type, one merge rule: task defaults, then `configure`, then a periodic schedule.
@Suite struct JobOptionsTests {
    @Test func laterOptionsWinOptionByOption() {
        let defaults = JobOptions(queue: "mail", priority: 1, lock: "a", extraArguments: ["x": 1, "y": 1])
        let given = JobOptions(priority: 5, queueingLock: "q", scheduleIn: .seconds(60), extraArguments: ["y": 2])
        let merged = defaults.overridden(by: given)
        #expect(merged == JobOptions(
            queue: "mail", priority: 5, lock: "a", queueingLock: "q", scheduleIn: .seconds(60), extraArguments: ["x": 1, "y": 2]
        ))
        // A schedule replaces a schedule of either kind.
        let at = Date(timeIntervalSince1970: 4_000_000_000)
        #expect(merged.overridden(by: JobOptions(scheduleAt: at)).scheduleIn == nil)
        #expect(merged.overridden(by: JobOptions(scheduleAt: at)).scheduleAt == at)
        #expect(merged.overridden(by: JobOptions()) == merged)
    }

    @Test func everyDeclarationGoesThroughTheSameMerge() async throws {
        let app = App(connector: InMemoryConnector())
        struct Tick: Codable, Sendable { var timestamp: Int }
        let tick = try app.task("tick", options: TaskOptions(jobs: JobOptions(queue: "clock", priority: 3, lock: "tick"))) {
            (_: Tick, _: JobContext) in
        }
        try await app.run {
            let id = try await tick.configure(JobOptions(priority: 7)).defer(Tick(timestamp: 1))
            let job = try #require(try await app.jobManager.job(id: id))
            #expect((job.queue, job.priority, job.lock) == ("clock", 7, "tick"))
            // Both schedules at once: refused, nothing inserted.
            await #expect(throws: ConfigurationError.self) {
                try await tick.configure(JobOptions(scheduleAt: Date(), scheduleIn: .seconds(1))).defer(Tick(timestamp: 1))
            }
            await #expect(throws: InvalidQueueName.self) {
                try await tick.configure(JobOptions(queue: String(repeating: "q", count: 41))).defer(Tick(timestamp: 1))
            }
            #expect(try await app.jobManager.listJobs().count == 1)
        }
        #expect(throws: InvalidQueueName.self) {
            _ = try app.task("bad", options: TaskOptions(jobs: JobOptions(queue: String(repeating: "q", count: 41)))) {
                (_: Tick, _: JobContext) in
            }
        }
    }
}
