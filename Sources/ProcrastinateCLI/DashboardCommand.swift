import ArgumentParser
import Foundation
import Hummingbird
import Procrastinate
import ProcrastinateDashboard

/// `procrastinate dashboard`: the web dashboard, until SIGINT or SIGTERM.
struct DashboardCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "dashboard",
            abstract: "Serve the web dashboard: the queue at a glance, jobs, locks, workers, periodic tasks.",
            discussion: """
                It listens on 127.0.0.1 unless told otherwise; on any other address it needs authentication: \
                HTTP basic with --auth-user and the password in PROCRASTINATE_DASHBOARD_PASSWORD, or a bearer token \
                in PROCRASTINATE_DASHBOARD_TOKEN. Run from your application's executable, it also shows your tasks and \
                periodic schedules. /metrics serves the queue's state in the Prometheus text format.

                \(examples("dashboard --port 8080", "dashboard --host 0.0.0.0 --auth-user admin --read-only"))
                """
        )
    }

    @OptionGroup var global: GlobalOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(parsing: .unconditional, help: "Port to listen on; 0 picks a free one.")
    var port = 8080

    @Option(help: "Path the dashboard is served under, e.g. /admin/jobs.")
    var basePath = "/"

    @Flag(help: "Show only: no retry, cancel, abort, delete or defer.")
    var readOnly = false

    @Option(help: "User name of HTTP basic authentication; the password comes from PROCRASTINATE_DASHBOARD_PASSWORD.")
    var authUser: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be a port number (0 to 65535), not \(port)") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let authentication = try authentication(environment: environment)
        try await global.withApp(environment: environment) { app in
            guard let connector = app.connector as? PostgresConnector else {
                throw CommandError("the dashboard reads a PostgreSQL database; this app's connector is not one")
            }
            let dashboard = Dashboard(
                connector: connector, app: app.hasOwnTasks ? app : nil, options: DashboardOptions(basePath: basePath, readOnly: readOnly)
            )
            let logger = connector.logger
            let (host, path) = (host, basePath.hasPrefix("/") ? basePath : "/" + basePath)
            do {
                let server = try DashboardServer.application(dashboard, host: host, port: port, authentication: authentication, logger: logger) {
                    FileHandle.standardOutput.write(Data("Dashboard on http://\(host):\($0)\(path)\n".utf8))
                }
                try await server.runService()
            } catch let error as DashboardExposed {
                throw CommandError(error.description)
            }
        }
    }

    /// The authentication the options and environment ask for.
    func authentication(environment: [String: String]) throws -> DashboardAuthentication {
        let password = environment["PROCRASTINATE_DASHBOARD_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        let token = environment["PROCRASTINATE_DASHBOARD_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        switch (authUser, password, token) {
        case (nil, nil, nil):
            return .none
        case (let user?, let password?, nil):
            return .basic(user: user, password: password)
        case (nil, nil, let token?):
            return .bearer(token: token)
        case (_?, nil, _):
            throw CommandError("--auth-user needs a password in PROCRASTINATE_DASHBOARD_PASSWORD")
        case (nil, _?, nil):
            throw CommandError("PROCRASTINATE_DASHBOARD_PASSWORD is set: name its user with --auth-user")
        default:
            throw CommandError("choose one authentication: --auth-user with PROCRASTINATE_DASHBOARD_PASSWORD, or PROCRASTINATE_DASHBOARD_TOKEN")
        }
    }
}
