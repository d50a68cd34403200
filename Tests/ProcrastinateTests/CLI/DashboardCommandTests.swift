import Foundation
import Procrastinate
import Testing

/// `procrastinate dashboard`: where it listens and who may open it.
@Suite struct DashboardCommandTests {
    @Test func beyondLoopbackItRefusesToStartWithoutAuthentication() async throws {
        try await TestDatabase.withDatabase { db in
            let url = try db.testURL
            let exposed = try await CommandLineRunner.run(["dashboard", "--host", "0.0.0.0", "--port", "0", "--database-url", url])
            #expect(exposed.status == 1)
            #expect(exposed.standardError.contains("without authentication"), "\(exposed.standardError)")
            #expect(!exposed.standardError.contains("password@"), "no URL with credentials in the message")

            let noPassword = try await CommandLineRunner.run(["dashboard", "--auth-user", "admin", "--database-url", url])
            #expect(noPassword.status == 1 && noPassword.standardError.contains("PROCRASTINATE_DASHBOARD_PASSWORD"))

            let both = try await CommandLineRunner.run(
                ["dashboard", "--auth-user", "admin", "--database-url", url],
                environment: ["PROCRASTINATE_DASHBOARD_PASSWORD": "s3cret", "PROCRASTINATE_DASHBOARD_TOKEN": "t0ken"]
            )
            #expect(both.status == 1 && both.standardError.contains("choose one authentication"))
            #expect(!both.standardError.contains("s3cret") && !both.standardError.contains("t0ken"))
        }
    }
}
