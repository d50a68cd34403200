public import ArgumentParser
import Foundation
public import Procrastinate

/// The `procrastinate` command line: administration of a Procrastinate database.
///
/// The standalone `procrastinate` executable runs it as it is; an application's own
/// executable runs it with a function that makes its app, so that `worker`, `defer` and
/// `crontab check` know its tasks. The command line chooses the database (`--database-url`,
/// else the environment) and the logging, and hands the function a connector to that database:
///
/// ```swift
/// @main enum MyService {
///     static func main() async {
///         await ProcrastinateCommand.main { connector in
///             let app = App(connector: connector, logger: connector.logger)
///             _ = try app.task("send_email") { (email: SendEmail) in … }
///             return app
///         }
///     }
/// }
/// ```
///
/// Help and examples name the executable as it was started (`my-service worker …`), and
/// `commands` adds an application's own subcommands beside ours.
public struct ProcrastinateCommand: AsyncParsableCommand {
    /// The subcommands every executable has.
    static let builtinCommands: [any ParsableCommand.Type] = [
        WorkerCommand.self, DeferCommand.self, ShellCommand.self, JobsCommand.self, QueuesCommand.self, TasksCommand.self,
        LocksCommand.self, WorkersCommand.self, SchemaCommand.self, HealthchecksCommand.self, CronCommand.self,
        CrontabCommand.self, DashboardCommand.self, LimitsCommand.self,
    ]

    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: Invocation.current.executableName,
            abstract: "PostgreSQL-backed task queue, compatible with Python Procrastinate 3.10.",
            discussion: """
                The database comes from --database-url, else PROCRASTINATE_DATABASE_URL, else the \
                libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE.

                \(examples("--database-url postgresql://app@localhost/app schema --apply"))
                """,
            version: PackageVersion.current,
            subcommands: builtinCommands + Invocation.current.commands
        )
    }

    @OptionGroup var global: GlobalOptions

    public init() {}

    /// Runs the command line (`arguments`: the process's when nil), then exits.
    ///
    /// - Parameters:
    ///   - arguments: The command line without the executable's name (nil: the process's).
    ///   - commands: an application's own subcommands, listed after ours. One that needs the
    ///     app takes `@OptionGroup var global: GlobalOptions` and calls
    ///     ``GlobalOptions/withApp(environment:_:)``.
    ///   - bootstrapsLogging: Whether `--log-level` and `--log-format` set up the process's
    ///     logging system (`LoggingSystem.bootstrap`, which a process may call once), so that
    ///     every logger follows them. Pass false when the application bootstraps its own
    ///     logging; the loggers Procrastinate makes still follow the options.
    ///   - makeApp: makes the application's app on a connector to the database the command
    ///     line names; without it, the app has the built-in tasks only.
    public static func main(
        arguments: [String]? = nil, commands: [any ParsableCommand.Type] = [], bootstrapsLogging: Bool = true,
        app makeApp: (@Sendable (PostgresConnector) throws -> App)? = nil
    ) async {
        let name = (CommandLine.arguments.first.map { URL(filePath: $0).lastPathComponent }).flatMap { $0.isEmpty ? nil : $0 }
        let invocation = Invocation(
            executableName: name ?? Invocation.standalone.executableName, commands: commands, makeApp: makeApp,
            bootstrapsLogging: bootstrapsLogging
        )
        await Invocation.$current.withValue(invocation) {
            await main(arguments)
        }
    }
}

/// How the command line was started: what the executable calls itself and what it adds.
struct Invocation: Sendable {
    /// The executable's name, for usage lines and examples.
    var executableName: String
    /// An application's own subcommands.
    var commands: [any ParsableCommand.Type]
    /// Makes the application's app, when the executable is an application's.
    var makeApp: (@Sendable (PostgresConnector) throws -> App)?
    /// Whether the logging options set the process's logging system (a real run, not a test
    /// that parses commands in its own process).
    var bootstrapsLogging: Bool

    /// The standalone executable, and commands parsed outside
    /// ``ProcrastinateCommand/main(arguments:commands:bootstrapsLogging:app:)``.
    static let standalone = Invocation(executableName: "procrastinate", commands: [], makeApp: nil, bootstrapsLogging: false)

    @TaskLocal static var current = standalone
}

/// The "Examples:" paragraph of a command's help: each command line after the executable's
/// name, broken before an option (kept with its value) with a trailing `\` when it would pass
/// 76 columns, so that no line wraps and every line pastes into a shell as it is.
func examples(_ commandLines: String...) -> String {
    let name = Invocation.current.executableName
    let lines = commandLines.flatMap { commandLine -> [String] in
        // An option and the words up to the next option stay on one line.
        var units: [String] = []
        for word in "\(name) \(commandLine)".split(separator: " ") {
            if word.hasPrefix("-") || units.isEmpty {
                units.append(String(word))
            } else {
                units[units.count - 1] += " \(word)"
            }
        }
        var lines = ["  \(units.removeFirst())"]
        for unit in units {
            if lines[lines.count - 1].count + 1 + unit.count > 76 {
                lines[lines.count - 1] += " \\"
                lines.append("      \(unit)")
            } else {
                lines[lines.count - 1] += " \(unit)"
            }
        }
        return lines
    }
    return (commandLines.count == 1 ? "Example:\n" : "Examples:\n") + lines.joined(separator: "\n")
}
