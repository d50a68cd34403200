import Foundation
import Procrastinate
import Testing

/// The programs of `examples/`, run against a test database as a user would run them.
@Suite struct ExamplesTests {
    func run(_ example: String, _ arguments: [String] = [], in db: PostgresConnector) async throws -> BackgroundProcess {
        var environment = ProcessInfo.processInfo.environment
        environment["PROCRASTINATE_DATABASE_URL"] = try db.testURL
        let process = try BackgroundProcess(example, arguments, environment: environment)
        #expect(try await process.exited(within: .seconds(60)) == 0, "\(process.errorOutput)")
        return process
    }

    @Test func quickstart() async throws {
        try await TestDatabase.withDatabase { db in
            let output = try await run("Quickstart", in: db).lines
            #expect(output.contains("job 1: 3 + 5 = 8"))
            #expect(output.contains("sending 'Welcome' to ada@example.com"))
            #expect(output.contains { $0.hasPrefix("  #3 sum on math - [todo]") && $0.contains("scheduled at") })
            #expect(output.contains("  math: 4 jobs (todo: 1, succeeded: 3)"))
        }
    }

    @Test func periodicFromTheCrontabFile() async throws {
        try await TestDatabase.withDatabase { db in
            let output = try await run("Periodic", ["--seconds", "3", "--crontabs", Repository.crontabs], in: db).lines
            #expect(output.contains("example.heartbeat: every 10 seconds [UTC]"))
            #expect(output.contains("example.office_digest: every 15 minutes past hours 9 through 17 on Monday through Friday [Europe/Paris]"))
            // The latest missed tick of each schedule is caught up at start.
            #expect(output.contains { $0.hasPrefix("heartbeat       tick ") })
            #expect(output.contains { $0.hasPrefix("report (fr)     tick ") } && output.contains { $0.hasPrefix("report (de)     tick ") })
        }
    }

    @Test func locksRunOneAtATimeAndQueueingLocksRefuse() async throws {
        try await TestDatabase.withDatabase { db in
            let output = try await run("Locks", in: db).lines
            #expect(output.contains { $0.contains("second refresh refused") })
            // The transfers of account 1 start in the order they were deferred, each after the previous ended.
            let events = output.compactMap { line in line.range(of: " s  ").map { String(line[$0.upperBound...]) } }
            let account1 = events.filter { $0.hasSuffix("on account 1") }
            #expect(account1 == [
                "start transfer of 10 on account 1", "end   transfer of 10 on account 1",
                "start transfer of 20 on account 1", "end   transfer of 20 on account 1",
                "start transfer of 30 on account 1", "end   transfer of 30 on account 1",
            ])
            #expect(events.filter { $0 == "refresh the cache" }.count == 1)
            #expect(output.contains("  account:1: 3 succeeded"))
            #expect(output.contains("  account:2: 2 succeeded"))
        }
    }

    @Test func retriesTimeoutsAndAbort() async throws {
        try await TestDatabase.withDatabase { db in
            let output = try await run("Retries", in: db).lines
            #expect(output.contains("  flaky: succeeded after 3 run(s)"))
            #expect(output.contains("  slow: failed after 1 run(s)"))
            #expect(output.contains("  long: aborted after 1 run(s)"))
        }
    }
}
