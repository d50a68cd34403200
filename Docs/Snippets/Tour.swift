import Foundation
import Procrastinate
import ProcrastinateCLI

// README: "A short tour" and "The command line".

func tour() async throws {
    let app = App(connector: PostgresConnector(settings: try ConnectionSettings(url: "postgresql://app@localhost/app")))
    let sendEmail = try app.task("send_email", queue: "emails", retry: RetryStrategy(maxAttempts: 5, exponentialWait: 2)) {
        (email: SendEmail, context: JobContext) in
        try await Mailer.send(email)
    }

    // Anywhere in the application:
    try await app.run {                                     // opens and closes the connection pool
        try await sendEmail.defer(SendEmail(to: "a@b.c", subject: "Hi"))
        try await sendEmail.configure(lock: "user:42", scheduleIn: .seconds(60)).defer(SendEmail(to: "a@b.c", subject: "Later"))
    }

    // In the worker process (SIGTERM stops it gracefully):
    try await app.runWorker(WorkerOptions(queues: ["emails"], concurrency: 10))
}

enum MyService {
    static func main() async {
        await ProcrastinateCommand.main { connector in
            let app = App(connector: connector, logger: connector.logger)
            _ = try app.task("send_email") { (email: SendEmail) in
                try await Mailer.send(email)
            }
            return app
        }
    }
}
