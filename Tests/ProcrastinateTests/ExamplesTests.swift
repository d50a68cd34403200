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
}
