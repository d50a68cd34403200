import Foundation
import Hummingbird
import PostgresNIO
import Procrastinate

// Article "Deferring jobs".

func deferring(app: App, sendEmail: TaskHandle<SendEmail>, connector: PostgresConnector) async throws {
    let email = SendEmail(to: "ada@example.com", subject: "Welcome")

    let id = try await sendEmail.defer(email)
    try await sendEmail.configure(queue: "urgent", priority: 10).defer(email)
    try await sendEmail.configure(scheduleIn: .seconds(3600)).defer(email)
    let ids = try await sendEmail.batchDefer([email, email, email])

    do {
        try await sendEmail.configure(queueingLock: "welcome:ada").defer(email)
    } catch let error as AlreadyEnqueued {
        print("a welcome mail already waits: \(error)")
    }

    try await connector.withTransaction { connection in
        try await connection.query("UPDATE users SET welcomed = true WHERE email = \(email.to)", logger: connector.logger)
        try await sendEmail.defer(email, on: connection)
    }

    try await app.configureTask(name: "reports.monthly").defer(["month": "2026-11"])

    let lowPriority = JobOptions(queue: "bulk", priority: -10)
    try await sendEmail.configure(lowPriority).defer(email)
    try await app.configure(Tasks.sendEmail, lowPriority.overridden(by: JobOptions(lock: "user:42"))).defer(email)
    _ = (id, ids)
}

enum Tasks {
    static let sendEmail = TaskName<SendEmail>("send_email")
}

func registerByName(app: App) throws {
    _ = try app.task(Tasks.sendEmail.name, queue: "emails") { (email: SendEmail) in
        try await Mailer.send(email)
    }
}

func signupRoutes(app: App) -> Router<BasicRequestContext> {
    let router = Router()
    router.post("signups") { request, _ -> HTTPResponse.Status in
        guard let email = request.uri.queryParameters["email"].map(String.init) else { return .badRequest }
        try await app.defer(Tasks.sendEmail, SendEmail(to: email, subject: "Welcome"))
        return .accepted
    }
    return router
}
