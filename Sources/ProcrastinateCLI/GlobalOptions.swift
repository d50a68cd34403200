import ArgumentParser
import Foundation
import Logging
import Procrastinate

/// Options every command takes: which database, how much to log.
public struct GlobalOptions: ParsableArguments {
    /// The levels `--log-level` accepts.
    public enum LogLevel: String, ExpressibleByArgument, CaseIterable, Sendable {
        case debug, info, warning, error, critical

        var level: Logger.Level {
            switch self {
            case .debug: .debug
            case .info: .info
            case .warning: .warning
            case .error: .error
            case .critical: .critical
            }
        }
    }

    /// `postgres://` URL of the database.
    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "PostgreSQL URL, e.g. postgresql://user:password@host:5432/db?sslmode=require.",
            discussion: "Default: PROCRASTINATE_DATABASE_URL, then the libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE."
        )
    )
    public var databaseURL: String?

    /// Least severe log level shown (on standard error).
    @Option(name: .customLong("log-level"), help: "debug, info, warning, error or critical (PROCRASTINATE_LOG_LEVEL).")
    public var logLevel: LogLevel?

    /// How log lines look.
    public enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
        case text, json
    }

    /// Log lines as text or JSON.
    @Option(name: .customLong("log-format"), help: "text or json (PROCRASTINATE_LOG_FORMAT).")
    public var logFormat: LogFormat?

    public init() {}

    /// The logger commands log into, at the chosen level, on standard error.
    func makeLogger(environment: [String: String]) -> Logger {
        let level = logLevel ?? environment["PROCRASTINATE_LOG_LEVEL"].flatMap { LogLevel(rawValue: $0.lowercased()) } ?? .warning
        let format = logFormat ?? environment["PROCRASTINATE_LOG_FORMAT"].flatMap { LogFormat(rawValue: $0.lowercased()) } ?? .text
        var logger = Logger(label: "procrastinate") { label -> any LogHandler in
            format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
        }
        logger.logLevel = level.level
        return logger
    }

    /// Runs `body` with an app on the chosen database, its connector open: the application's
    /// (see ``ProcrastinateCommand/main(arguments:app:)``), or else one with the built-in
    /// tasks only.
    func withApp<Result: Sendable>(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        _ body: (App) async throws -> Result
    ) async throws -> Result {
        let settings = try ConnectionSettings.resolve(url: databaseURL, environment: environment)
        let logger = makeLogger(environment: environment)
        let connector = PostgresConnector(settings: settings, logger: logger)
        let app = try ProcrastinateCommand.makeApp?(connector) ?? App(connector: connector, logger: logger)
        return try await app.run { try await body(app) }
    }

    /// Runs `body` with a connector to the chosen database, open.
    func withConnector<Result: Sendable>(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        _ body: (PostgresConnector) async throws -> Result
    ) async throws -> Result {
        let settings = try ConnectionSettings.resolve(url: databaseURL, environment: environment)
        let connector = PostgresConnector(settings: settings, logger: makeLogger(environment: environment))
        return try await connector.run(body)
    }
}
