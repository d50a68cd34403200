// An HTTP service that defers jobs inside its requests' database transactions.
//
//   scripts/example HTTPService [--port 8080]
//   curl -X POST 'http://127.0.0.1:8080/signups?email=ada@example.com'
//
// `POST /signups?email=…` defers a welcome mail and records the signup in one transaction:
// a second signup of the same address violates the table's unique constraint, so the whole
// transaction rolls back and no mail is sent. The worker runs in the HTTP server's
// ServiceGroup, on the same connection pool; SIGINT or SIGTERM stops both gracefully. The
// dashboard is mounted at /admin/jobs (open http://127.0.0.1:8080/admin/jobs): in production,
// put it behind the application's own authentication middleware.
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import Procrastinate
import ProcrastinateDashboard

struct Welcome: Codable, Sendable {
    var email: String
}

/// The tasks this service defers, by typed name: any code that has the app can defer them.
enum Tasks {
    static let sendWelcome = TaskName<Welcome>("send_welcome")
}

/// Prints `line` at once, also when the output is a pipe.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

@main
enum HTTPService {
    static func main() async {
        do { try await run() } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run() async throws {
        let logger = {
            var logger = Logger(label: "http-service")
            logger.logLevel = .warning
            return logger
        }()
        let arguments = CommandLine.arguments
        let port = arguments.firstIndex(of: "--port").map { arguments.indices.contains($0 + 1) ? Int(arguments[$0 + 1]) : nil } ?? 8080
        guard let port else {
            FileHandle.standardError.write(Data("error: --port needs a number, e.g. --port 8080\n".utf8))
            exit(1)
        }

        let settings = try ConnectionSettings.resolve(url: nil)
        let client = PostgresClient(configuration: settings.clientConfiguration, backgroundLogger: logger)
        let connector = PostgresConnector(client: client, endpoint: settings.endpoint, logger: logger)
        let app = App(connector: connector, logger: logger)
        _ = try app.task(Tasks.sendWelcome.name, queue: "emails") { (welcome: Welcome) in
            say("welcome mail sent to \(welcome.email)")
        }

        let router = Router()
        router.post("signups") { request, _ -> Response in
            guard let email = request.uri.queryParameters["email"].map(String.init), !email.isEmpty else {
                return Response(status: .badRequest, body: ResponseBody(byteBuffer: ByteBuffer(string: "email is missing\n")))
            }
            do {
                let job = try await connector.withTransaction { connection in
                    let job = try await app.configure(Tasks.sendWelcome).defer(Welcome(email: email), on: connection)
                    try await connection.query("INSERT INTO example_signups (email) VALUES (\(email))", logger: logger)
                    return job
                }
                return Response(status: .created, body: ResponseBody(byteBuffer: ByteBuffer(string: "signed up \(email): job \(job)\n")))
            } catch let error as DatabaseError where error.sqlState == "23505" {
                return Response(status: .conflict, body: ResponseBody(byteBuffer: ByteBuffer(string: "\(email) already signed up\n")))
            }
        }

        Dashboard(connector: connector, app: app, options: DashboardOptions(basePath: "/admin/jobs")).addRoutes(to: router)

        let worker = Worker(app: app, options: WorkerOptions(queues: ["emails"]))
        var server = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port)),
            services: [client, worker],
            onServerRunning: { channel in
                say("listening on port \(channel.localAddress?.port ?? port)")
            },
            logger: logger
        )
        server.beforeServerStarts {
            try await client.query("CREATE TABLE IF NOT EXISTS example_signups (email text PRIMARY KEY)", logger: logger)
        }
        try await server.runService()
    }
}
