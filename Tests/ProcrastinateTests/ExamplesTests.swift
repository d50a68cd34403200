import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Procrastinate
import Testing

/// The programs of `examples/`, run against a test database as a user would run them.
@Suite struct ExamplesTests {
    func start(_ example: String, _ arguments: [String] = [], in db: PostgresConnector) throws -> BackgroundProcess {
        var environment = ProcessInfo.processInfo.environment
        environment["PROCRASTINATE_DATABASE_URL"] = try db.testURL
        return try BackgroundProcess(example, arguments, environment: environment)
    }

    func run(_ example: String, _ arguments: [String] = [], in db: PostgresConnector) async throws -> BackgroundProcess {
        let process = try start(example, arguments, in: db)
        #expect(try await process.exited(within: .seconds(60)) == 0, "\(process.errorOutput)")
        return process
    }

    @Test func quickstart() async throws {
        try await TestDatabase.withDatabase { db in
            let output = try await run("Quickstart", in: db).lines
            #expect(output.contains("job 1: 3 + 5 = 8"))
            #expect(output.contains("sending 'Welcome' to ada@example.com"))
            #expect(output.contains { $0.hasPrefix("  #3 sum on math - [todo]") && $0.contains("scheduled at") })
            #expect(output.contains("  math: 4 jobs (todo: 1, succeeded: 3, failed: 0)"))
            // One job retried, then succeeded; one failed.
            #expect(output.contains { $0.hasPrefix("  #6 flaky on default - [succeeded]") && $0.hasSuffix("attempts: 2") })
            #expect(output.contains { $0.hasPrefix("  #7 broken on default - [failed]") })
        }
    }

    @Test func periodicFromTheCrontabFile() async throws {
        try await TestDatabase.withDatabase { db in
            let output = try await run("Periodic", ["--seconds", "8", "--crontabs", Repository.crontabs], in: db).lines
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

    @Test func httpServiceDefersInTheRequestsTransaction() async throws {
        try await TestDatabase.withDatabase { db in
            let service = try start("HTTPService", ["--port", "0"], in: db)
            try await eventually("the service to listen") { service.lines.contains { $0.hasPrefix("listening on port ") } }
            let port = service.lines.first { $0.hasPrefix("listening on port ") }!.split(separator: " ").last!
            func post(_ query: String) async throws -> Int {
                var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/signups\(query)")!)
                request.httpMethod = "POST"
                let (_, response) = try await URLSession.shared.data(for: request)
                return (response as! HTTPURLResponse).statusCode
            }
            #expect(try await post("?email=ada@example.com") == 201)
            // The second signup violates the unique email: its job rolls back with it.
            #expect(try await post("?email=ada@example.com") == 409)
            #expect(try await post("") == 400)
            try await eventually("the welcome mail") { service.lines.contains("welcome mail sent to ada@example.com") }
            // The dashboard it mounts shows the job, on the service's own pool.
            let (page, dashboard) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/admin/jobs/jobs")!)
            #expect((dashboard as! HTTPURLResponse).statusCode == 200)
            #expect(String(decoding: page, as: UTF8.self).contains("send_welcome"))
            service.send(SIGTERM)
            #expect(try await service.exited() == 0, "\(service.errorOutput)")
            let jobs = try await JobManager(connector: db).listJobs()
            #expect(jobs.map(\.taskName) == ["send_welcome"])
            #expect(jobs.map(\.status) == [.succeeded])
        }
    }
}
