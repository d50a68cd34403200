import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import Procrastinate
import ProcrastinateDashboard
import Testing

/// The dashboard's pages and actions, served in process against a real database: on our
/// schema and on one Python Procrastinate set up alone.
@Suite struct DashboardTests {
    static let hostile = "<script>alert(1)</script>"

    /// Jobs of every status, with markup in a task name, arguments and a lock; returns ids by role.
    static func seed(_ db: PostgresConnector) async throws -> [String: Int64] {
        var ids: [String: Int64] = [:]
        func add(_ role: String, task: String = "mail.send", queue: String = "emails", lock: String? = nil, args: String = #"{"to": "ada@example.com"}"#, status: String? = nil) async throws {
            let id = try await db.value(
                """
                INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args) VALUES (\(queue), \(task), \(lock), \(args)::jsonb) RETURNING id
                """, as: Int64.self
            )!
            if let status {
                if status != "todo" { try await db.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = \(id)") }
                if status != "doing" && status != "todo" {
                    try await db.execute("UPDATE procrastinate_jobs SET status = \(status)::procrastinate_job_status WHERE id = \(id)")
                }
            }
            ids[role] = id
        }
        try await add("waiting")
        try await add("running", lock: "user-1", status: "doing")
        try await add("blocked", lock: "user-1")
        try await add("failed", task: "report.build", queue: "reports", status: "failed")
        try await add("succeeded", status: "succeeded")
        try await add("hostile", task: hostile, queue: hostile, lock: hostile, args: #"{"html": "\#(hostile)"}"#)
        return ids
    }

    static func withDashboard(
        _ source: SchemaSource, readOnly: Bool = false,
        _ body: @escaping @Sendable (PostgresConnector, [String: Int64], any TestClientProtocol) async throws -> Void
    ) async throws {
        try await TestDatabase.withDatabase(source) { db in
            let ids = try await seed(db)
            let router = Router()
            Dashboard(connector: db, options: DashboardOptions(basePath: "/admin/jobs", readOnly: readOnly)).addRoutes(to: router)
            try await Application(router: router).test(.router) { client in try await body(db, ids, client) }
        }
    }

    static func get(_ client: any TestClientProtocol, _ path: String) async throws -> (HTTPResponse.Status, String) {
        try await client.execute(uri: path, method: .get) { response in (response.status, String(buffer: response.body)) }
    }

    /// The token of the dashboard's forms, from a page.
    static func token(in page: String) throws -> String {
        let marker = "name=\"csrf\" value=\""
        let start = try #require(page.range(of: marker)).upperBound
        return String(page[start...].prefix { $0 != "\"" })
    }

    static func post(_ client: any TestClientProtocol, _ path: String, _ fields: [(String, String)], script: Bool = true) async throws -> (HTTPResponse.Status, String, String?) {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if script { headers[HTTPField.Name("X-Dashboard-Fragment")!] = "1" }
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            (response.status, String(buffer: response.body), response.headers[.location])
        }
    }

    @Test func aDatabaseThatIsDownGetsAPageSayingSoWithinTheQueryTimeoutAndALogLine() async throws {
        let port = try PrivateCluster.freePort()
        let logs = CapturedLogs()
        let settings = try ConnectionSettings(url: "postgresql://postgres@127.0.0.1:\(port)/nothing")
        let client = PostgresClient(configuration: settings.clientConfiguration, backgroundLogger: logs.logger)
        let connector = PostgresConnector(client: client, endpoint: settings.endpoint, queryTimeout: .seconds(2), logger: logs.logger)
        let router = Router()
        Dashboard(connector: connector, options: DashboardOptions(basePath: "/admin")).addRoutes(to: router)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await Application(router: router).test(.router) { http in
                for path in ["/admin", "/admin/jobs", "/admin"] {
                    let (status, body) = try await within(.seconds(30), waitingFor: "the page \(path)") { try await Self.get(http, path) }
                    #expect(status == .serviceUnavailable)
                    #expect(body.contains("The database is unavailable") && body.contains("127.0.0.1:\(port)/nothing"), "\(body)")
                    #expect(!body.contains("ConnectionPoolError"))
                }
            }
        }
        #expect(logs.messages(atLeast: .error).contains { $0.contains("the database is unavailable") })
    }

    @Test(arguments: SchemaSource.allCases)
    func everyPageLoadsAndEscapesWhatTheDatabaseHolds(_ source: SchemaSource) async throws {
        try await Self.withDashboard(source) { _, ids, client in
            let hostileID = ids["hostile"]!
            for path in [
                "", "/", "/jobs", "/jobs/\(hostileID)", "/jobs/\(ids["blocked"]!)", "/queues", "/tasks", "/locks", "/locks?search=user",
                "/limits", "/workers", "/periodic", "/stalled", "/jobs?status=failed", "/jobs?args=%7B%22to%22%3A%22ada%40example.com%22%7D",
                "/jobs?lock=user-1", "/jobs?task=%3Cscript%3E",
            ] {
                let (status, page) = try await Self.get(client, "/admin/jobs\(path)")
                #expect(status == .ok, "\(path): \(page)")
                #expect(!page.contains(Self.hostile), "\(path) holds the markup as markup")
            }
            let (_, job) = try await Self.get(client, "/admin/jobs/jobs/\(hostileID)")
            #expect(job.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            let (_, blocked) = try await Self.get(client, "/admin/jobs/jobs/\(ids["blocked"]!)")
            #expect(blocked.contains("Waits for <a href=\"/admin/jobs/jobs/\(ids["running"]!)\">"))
            let (missing, _) = try await Self.get(client, "/admin/jobs/jobs/999999")
            #expect(missing == .notFound)
            let (invalid, message) = try await Self.get(client, "/admin/jobs/jobs?status=lost")
            #expect(invalid == .badRequest && message.contains("status=lost"))
            // The actions too, as the command line does them, through 3.10's own functions.
            let token = try Self.token(in: job)
            for (id, action) in [(ids["waiting"]!, "cancel"), (ids["running"]!, "abort"), (ids["succeeded"]!, "delete"), (ids["failed"]!, "retry")] {
                let (status, message, _) = try await Self.post(client, "/admin/jobs/jobs/\(id)/\(action)", [("csrf", token)])
                #expect(status == .ok, "\(action): \(message)")
            }
        }
    }

    @Test func theJobPageShowsARetriedJobsEventsInTheOrderTheyHappenedAndItsErrors() async throws {
        try await Self.withDashboard(.ours) { db, ids, client in
            let id = ids["succeeded"]!
            try await db.execute("DELETE FROM procrastinate_events WHERE job_id = \(id)")
            // A retry as 3.10's triggers write it: `scheduled` (the planned run) before `deferred_for_retry`.
            for (type, at) in [
                ("deferred", "10:00:00"), ("started", "10:00:01"), ("scheduled", "10:05:01"), ("deferred_for_retry", "10:00:02"),
                ("started", "10:05:02"), ("succeeded", "10:05:03"),
            ] {
                try await db.execute(
                    "INSERT INTO procrastinate_events (job_id, type, at) VALUES (\(id), \(type)::procrastinate_job_event_type, \("2026-01-01 " + at + "+00")::timestamptz)"
                )
            }
            try await db.execute(
                """
                INSERT INTO procrastinate_swift_job_errors (job_id, attempt, at, error_type, message)
                VALUES (\(id), 1, '2026-01-01 10:00:02+00', 'Mail.Refused', \(Self.hostile))
                """
            )
            let (status, page) = try await Self.get(client, "/admin/jobs/jobs/\(id)")
            #expect(status == .ok)
            let start = try #require(page.range(of: "<ol class=\"timeline\">")).upperBound
            let timeline = String(page[start..<(try #require(page.range(of: "</ol>", range: start..<page.endIndex)).lowerBound)])
            let types = timeline.components(separatedBy: "<li><strong>").dropFirst().map { String($0.prefix { $0 != "<" }) }
            #expect(types == ["deferred", "started", "deferred_for_retry", "started", "succeeded"])
            let gaps = timeline.components(separatedBy: "<span class=\"gap\">+").dropFirst().map { String($0.prefix { $0 != "<" }) }
            #expect(gaps == ["1.0 s", "1.0 s", "5 min 00 s", "1.0 s"])
            #expect(page.contains("to run at 2026-01-01T10:05:01.000Z"))
            #expect(page.contains("<code>Mail.Refused</code>"))
            #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<pre>\(Self.hostile)"))
        }
    }

    @Test func theJobListFiltersAndPagesNewestFirst() async throws {
        try await Self.withDashboard(.ours) { db, seeded, client in
            for index in 0..<120 {
                try await db.execute("INSERT INTO procrastinate_jobs (queue_name, task_name, args) VALUES ('bulk', 'noop', \(#"{"n": \#(index)}"#)::jsonb)")
            }
            func ids(in page: String) -> [Int64] {
                page.components(separatedBy: "<tr><td><a href=\"/admin/jobs/jobs/").dropFirst().compactMap { Int64($0.prefix { $0.isNumber }) }
            }
            let (_, first) = try await Self.get(client, "/admin/jobs/jobs?queue=bulk")
            let firstIDs = ids(in: first)
            #expect(firstIDs.count == 50 && firstIDs == firstIDs.sorted(by: >))
            let older = try #require(first.range(of: "rel=\"next\" href=\"")).upperBound
            let next = String(first[older...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
            let (_, second) = try await Self.get(client, next)
            #expect(ids(in: second).first == firstIDs.last! - 1)
            let (_, third) = try await Self.get(client, "/admin/jobs/jobs?queue=bulk&before=\(ids(in: second).last!)")
            #expect(ids(in: third).count == 20 && !third.contains("rel=\"next\""))
            let (_, json) = try await Self.get(client, "/admin/jobs/jobs?args=%7B%22n%22%3A%207%7D")
            #expect(ids(in: json).count == 1)
            let (_, byID) = try await Self.get(client, "/admin/jobs/jobs?id=\(seeded["failed"]!)&status=failed")
            #expect(ids(in: byID) == [seeded["failed"]!])
        }
    }

    @Test func actionsArePostsWithThePagesToken() async throws {
        try await Self.withDashboard(.ours) { db, ids, client in
            let (_, page) = try await Self.get(client, "/admin/jobs/jobs")
            let token = try Self.token(in: page)
            let waiting = ids["waiting"]!
            let (forged, _, _) = try await Self.post(client, "/admin/jobs/jobs/\(waiting)/cancel", [("csrf", "guess")])
            #expect(forged == .forbidden)
            let (viaGet, _) = try await Self.get(client, "/admin/jobs/jobs/\(waiting)/cancel")
            #expect(viaGet != .ok)
            #expect(try await db.value("SELECT status::text FROM procrastinate_jobs WHERE id = \(waiting)", as: String.self) == "todo")

            let (cancelled, message, _) = try await Self.post(client, "/admin/jobs/jobs/\(waiting)/cancel", [("csrf", token)])
            #expect(cancelled == .ok && message.contains("cancelled"))
            let (retried, _, _) = try await Self.post(client, "/admin/jobs/jobs/\(ids["failed"]!)/retry", [("csrf", token)])
            #expect(retried == .ok)
            let (deleted, _, _) = try await Self.post(client, "/admin/jobs/jobs/\(ids["succeeded"]!)/delete", [("csrf", token)])
            #expect(deleted == .ok)
            let (keptRunning, refusal, _) = try await Self.post(client, "/admin/jobs/jobs/\(ids["running"]!)/delete", [("csrf", token)])
            #expect(keptRunning == .ok && refusal.contains("not deleted"))
            let statuses = try await db.rows("SELECT id, status::text FROM procrastinate_jobs", as: (Int64, String).self)
            let byID = Dictionary(uniqueKeysWithValues: statuses.map { ($0.0, $0.1) })
            #expect(byID[waiting] == "cancelled" && byID[ids["failed"]!] == "todo" && byID[ids["succeeded"]!] == nil)
            #expect(byID[ids["running"]!] == "doing")

            // Without the page's script: a redirect back, with the message.
            let (redirected, _, location) = try await Self.post(
                client, "/admin/jobs/jobs/\(ids["blocked"]!)/cancel", [("csrf", token), ("return", "/admin/jobs/jobs?queue=emails")], script: false
            )
            #expect(redirected == .seeOther && location?.hasPrefix("/admin/jobs/jobs?queue=emails&done=") == true)
            let (_, _, elsewhere) = try await Self.post(
                client, "/admin/jobs/jobs/\(ids["blocked"]!)/cancel", [("csrf", token), ("return", "//evil.example/admin/jobs/")], script: false
            )
            #expect(elsewhere?.hasPrefix("/admin/jobs/?done=") == true, "\(elsewhere ?? "")")
            // From another site: refused whatever the token.
            var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            headers[HTTPField.Name("Sec-Fetch-Site")!] = "cross-site"
            let crossSite = try await client.execute(
                uri: "/admin/jobs/jobs/\(ids["running"]!)/abort", method: .post, headers: headers, body: ByteBuffer(string: "csrf=\(token)")
            ) { $0.status }
            #expect(crossSite == .forbidden)
        }
    }

    @Test func bulkActionsCountThenActOnEveryMatchingJob() async throws {
        try await Self.withDashboard(.ours) { db, _, client in
            for _ in 0..<30 { try await db.execute("INSERT INTO procrastinate_jobs (queue_name, task_name) VALUES ('old', 'noop')") }
            let (_, page) = try await Self.get(client, "/admin/jobs/jobs?queue=old")
            let token = try Self.token(in: page)
            let (status, confirmation, _) = try await Self.post(
                client, "/admin/jobs/jobs/bulk", [("csrf", token), ("action", "cancel"), ("queue", "old")], script: false
            )
            #expect(status == .ok && confirmation.contains("30 jobs match"))
            #expect(try await db.value("SELECT count(*)::int FROM procrastinate_jobs WHERE status = 'cancelled'", as: Int.self) == 0)
            let (done, _, location) = try await Self.post(
                client, "/admin/jobs/jobs/bulk", [("csrf", token), ("action", "cancel"), ("queue", "old"), ("confirm", "yes")], script: false
            )
            #expect(done == .seeOther && location?.contains("Cancelled%2030%20jobs") == true)
            #expect(try await db.value("SELECT count(*)::int FROM procrastinate_jobs WHERE status = 'cancelled'", as: Int.self) == 30)
        }
    }

    @Test func aReadOnlyDashboardShowsNoActionAndRefusesThem() async throws {
        try await Self.withDashboard(.ours, readOnly: true) { db, ids, client in
            let (_, page) = try await Self.get(client, "/admin/jobs/jobs")
            #expect(!page.contains("name=\"csrf\""))
            let (status, _, _) = try await Self.post(client, "/admin/jobs/jobs/\(ids["waiting"]!)/cancel", [("csrf", "x")])
            #expect(status == .forbidden)
            #expect(try await db.value("SELECT status::text FROM procrastinate_jobs WHERE id = \(ids["waiting"]!)", as: String.self) == "todo")
        }
    }

    @Test func theLimitsPageShowsLimitsAndPausesAndResumesQueues() async throws {
        try await Self.withDashboard(.ours) { db, _, client in
            let manager = App(connector: db).jobManager
            try await manager.setLimit(Limit(concurrency: 2, rate: Limit.Rate(30, per: .seconds(60))), for: .queue("emails"))
            try await manager.pause(queue: "<b>q</b>")
            let (status, page) = try await Self.get(client, "/admin/jobs/limits")
            #expect(status == .ok)
            let running = try #require(try await manager.limits().first).running
            #expect(page.contains(">emails</a>") && page.contains("\(running) of 2") && page.contains("0 of 30 per 1 min 00 s, 3 at once"), "\(page)")
            #expect(page.contains("&lt;b&gt;q&lt;/b&gt;") && !page.contains("<b>q</b>"))
            let token = try Self.token(in: page)
            let (resumed, message, _) = try await Self.post(client, "/admin/jobs/queues/resume", [("csrf", token), ("queue", "<b>q</b>")])
            #expect(resumed == .ok && message == "Resumed queue <b>q</b>.")
            let (paused, _, _) = try await Self.post(client, "/admin/jobs/queues/pause", [("csrf", token), ("queue", "emails")])
            #expect(paused == .ok)
            #expect(try await manager.pausedQueues().map(\.name) == ["emails"])
            let (empty, _, _) = try await Self.post(client, "/admin/jobs/queues/pause", [("csrf", token), ("queue", " ")])
            #expect(empty == .badRequest)
            let (forged, _, _) = try await Self.post(client, "/admin/jobs/queues/resume", [("csrf", "guess"), ("queue", "emails")])
            #expect(forged == .forbidden)
            #expect(try await manager.pausedQueues().map(\.name) == ["emails"])
        }
    }

    @Test func metricsAreInThePrometheusTextFormat() async throws {
        try await Self.withDashboard(.ours) { _, _, client in
            let (status, text) = try await Self.get(client, "/admin/jobs/metrics")
            #expect(status == .ok)
            #expect(text.contains("# TYPE procrastinate_jobs gauge"))
            #expect(text.contains(#"procrastinate_jobs{queue="emails",status="todo"} 2"#))
            #expect(text.contains("procrastinate_workers_alive 0"))
            #expect(text.contains(#"procrastinate_oldest_waiting_job_age_seconds{queue="emails"}"#))
        }
    }

    @Test func theStandaloneServerNeedsAuthenticationBeyondLoopback() async throws {
        try await TestDatabase.withDatabase(.ours) { db in
            let dashboard = Dashboard(connector: db)
            #expect(throws: DashboardExposed.self) {
                try DashboardServer.application(dashboard, host: "0.0.0.0", port: 0, authentication: .none, logger: Logger(label: "test"))
            }
            let server = try DashboardServer.application(
                dashboard, host: "0.0.0.0", port: 0, authentication: .basic(user: "admin", password: "s3cret"), logger: Logger(label: "test")
            )
            try await server.test(.router) { client in
                let anonymous = try await client.execute(uri: "/", method: .get) { $0.status }
                #expect(anonymous == .unauthorized)
                let wrong: HTTPFields = [.authorization: "Basic " + Data("admin:nope".utf8).base64EncodedString()]
                let wrongStatus = try await client.execute(uri: "/", method: .get, headers: wrong) { $0.status }
                #expect(wrongStatus == .unauthorized)
                let right: HTTPFields = [.authorization: "Basic " + Data("admin:s3cret".utf8).base64EncodedString()]
                let rightStatus = try await client.execute(uri: "/", method: .get, headers: right) { $0.status }
                #expect(rightStatus == .ok)
            }
        }
    }

    struct Tick: Codable, Sendable {
        var timestamp: Int
    }

    @Test func withTheAppThePeriodicPageShowsEverySchedule() async throws {
        try await TestDatabase.withDatabase(.ours) { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let report = try app.task("report.daily") { (_: Tick) in }
            try app.periodic(report, cron: "0 9 * * mon-fri", timeZone: TimeZone(identifier: "Europe/Paris")!)
            let router = Router()
            Dashboard(connector: db, app: app).addRoutes(to: router)
            try await Application(router: router).test(.router) { client in
                let (status, page) = try await Self.get(client, "/periodic")
                #expect(status == .ok)
                #expect(page.contains("0 9 * * mon-fri") && page.contains("Europe/Paris") && page.contains("never"))
                #expect(page.contains("T09:00:00+01:00") || page.contains("T09:00:00+02:00"), "the next fire times in the zone")
                let (_, tasks) = try await Self.get(client, "/tasks")
                #expect(tasks.contains("<code>report.daily</code>"), "a registered task without jobs")
                let token = try Self.token(in: page)
                let (deferred, message, _) = try await Self.post(client, "/periodic/defer", [("csrf", token), ("task", "report.daily"), ("periodic_id", "")])
                #expect(deferred == .ok && message.contains("Deferred report.daily now"))
                #expect(try await db.value("SELECT count(*)::int FROM procrastinate_jobs WHERE task_name = 'report.daily'", as: Int.self) == 1)
                let (unknown, _, _) = try await Self.post(client, "/periodic/defer", [("csrf", token), ("task", "nope")])
                #expect(unknown == .notFound)
            }
        }
    }
}
