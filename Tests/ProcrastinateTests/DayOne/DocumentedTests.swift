import Procrastinate
import ProcrastinateTesting
import Synchronization
import Testing

/// The test the "Testing your tasks" article shows, run as it is shown.
@Suite struct DocumentedTests {
    @Test func welcomeMailsAreSent() async throws {
        let app = App(connector: InMemoryConnector())
        let sent = Mutex<[String]>([])
        let sendEmail = try app.task("send_email") { (email: SendEmail) in
            sent.withLock { $0.append(email.to) }
        }

        try await app.run {
            try await sendEmail.defer(SendEmail(to: "ada@example.com", subject: "Welcome"))
            try await app.workUntilStopped(WorkerOptions(wait: false))
        }

        #expect(sent.withLock { $0 } == ["ada@example.com"])
        #expect(try await app.jobManager.listJobs().map(\.status) == [.succeeded])
    }
}
