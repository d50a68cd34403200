public import Hummingbird
public import Logging

/// The dashboard as a server of its own: what `procrastinate dashboard` runs.
public enum DashboardServer {
    /// An application serving `dashboard` on `host:port`, behind `authentication`.
    ///
    /// - Throws: ``DashboardExposed`` when `host` is not a loopback address and
    ///   `authentication` is ``DashboardAuthentication/none``: a dashboard that acts on jobs is
    ///   never open to a network without a password or token.
    public static func application(
        _ dashboard: Dashboard, host: String, port: Int, authentication: DashboardAuthentication, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        guard authentication != .none || isLoopback(host) else { throw DashboardExposed(host: host) }
        let router = Router()
        router.add(middleware: AuthenticationMiddleware(authentication: authentication))
        dashboard.addRoutes(to: router)
        return Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) }, logger: logger
        )
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// A dashboard asked to listen beyond this machine without authentication.
public struct DashboardExposed: Error, CustomStringConvertible {
    /// The address asked for.
    public var host: String

    /// What is wrong and what to do, in one line.
    public var description: String {
        "the dashboard would listen on \(host) without authentication: set PROCRASTINATE_DASHBOARD_PASSWORD (with --auth-user) "
            + "or PROCRASTINATE_DASHBOARD_TOKEN, or listen on 127.0.0.1"
    }
}
