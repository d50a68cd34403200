public import ArgumentParser
public import Foundation
import Logging
public import Procrastinate
import Synchronization

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
    @Option(name: .customLong("log-level"), help: "Least severe level logged (default: PROCRASTINATE_LOG_LEVEL, else warning).")
    public var logLevel: LogLevel?

    /// How log lines look.
    public enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
        case text, json
    }

    /// Log lines as text or JSON.
    @Option(name: .customLong("log-format"), help: "Log lines as text or JSON (default: PROCRASTINATE_LOG_FORMAT, else text).")
    public var logFormat: LogFormat?

    public init() {}

    /// The logger commands log into, at the chosen level, on standard error.
    ///
    /// In a real run (``ProcrastinateCommand/main(arguments:commands:bootstrapsLogging:app:)``)
    /// the choice also becomes the process's logging system, once, so that the loggers an
    /// application makes itself (`Logger(label: "my-service")`) follow `--log-level` and
    /// `--log-format` too.
    func makeLogger(environment: [String: String]) -> Logger {
        let level = (logLevel ?? environment["PROCRASTINATE_LOG_LEVEL"].flatMap { LogLevel(rawValue: $0.lowercased()) } ?? .warning).level
        let format = logFormat ?? environment["PROCRASTINATE_LOG_FORMAT"].flatMap { LogFormat(rawValue: $0.lowercased()) } ?? .text
        let makeHandler = { @Sendable (label: String) -> any LogHandler in
            var handler: any LogHandler = format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        if Invocation.current.bootstrapsLogging {
            LoggingChoice.bootstrapOnce(makeHandler)
        }
        var logger = Logger(label: "procrastinate", factory: makeHandler)
        logger.logLevel = level
        return logger
    }

    /// Runs `body` with an app on the chosen database, its connector open: the application's
    /// (see ``ProcrastinateCommand/main(arguments:commands:bootstrapsLogging:app:)``), or else one with the
    /// built-in tasks only.
    public func withApp<Result: Sendable>(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        _ body: (App) async throws -> Result
    ) async throws -> Result {
        let app = try makeApp(environment: environment)
        return try await Self.namingThisExecutable { try await app.run { try await body(app) } }
    }

    /// Runs `body`; a ``SchemaError`` it throws names this executable as the one to run
    /// `schema` with (an application's own, or `procrastinate`).
    static func namingThisExecutable<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as SchemaError {
            throw CommandError(error.description(command: Invocation.current.executableName))
        }
    }

    /// The app on the chosen database, not open: the application's, or one with the built-in
    /// tasks only.
    func makeApp(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> App {
        let settings = try ConnectionSettings.resolve(url: databaseURL, environment: environment)
        let logger = makeLogger(environment: environment)
        let connector = PostgresConnector(settings: settings, logger: logger)
        return try Invocation.current.makeApp?(connector) ?? App(connector: connector, logger: logger)
    }

    /// Runs `body` with a connector to the chosen database, open.
    func withConnector<Result: Sendable>(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        _ body: (PostgresConnector) async throws -> Result
    ) async throws -> Result {
        let settings = try ConnectionSettings.resolve(url: databaseURL, environment: environment)
        let connector = PostgresConnector(settings: settings, logger: makeLogger(environment: environment))
        return try await Self.namingThisExecutable { try await connector.run(body) }
    }
}

/// The process's logging system, set once from the first command's options.
enum LoggingChoice {
    private static let done = Mutex(false)

    static func bootstrapOnce(_ makeHandler: @escaping @Sendable (String) -> any LogHandler) {
        let first = done.withLock { done in
            defer { done = true }
            return !done
        }
        if first { LoggingSystem.bootstrap(makeHandler) }
    }
}
