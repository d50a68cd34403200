import ArgumentParser
import Procrastinate

/// The `procrastinate` command line: administration of a Procrastinate database.
///
/// The standalone `procrastinate` executable runs it as it is; an application's own
/// executable runs it with a function that makes its app, so that `worker` and `defer` know its
/// tasks. The command line chooses the database (`--database-url`, else the environment) and
/// the logging, and hands the function a connector to that database:
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
public struct ProcrastinateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "procrastinate",
        abstract: "PostgreSQL-backed task queue, compatible with Python Procrastinate 3.10.",
        discussion: """
            The database comes from --database-url, else PROCRASTINATE_DATABASE_URL, else the \
            libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE.

            Example:
              procrastinate --database-url postgresql://app@localhost/app schema --apply
            """,
        version: "0.1.0",
        subcommands: [
            WorkerCommand.self, DeferCommand.self, ShellCommand.self, JobsCommand.self, QueuesCommand.self, TasksCommand.self,
            LocksCommand.self, WorkersCommand.self, SchemaCommand.self, HealthchecksCommand.self, CronCommand.self,
            CrontabCommand.self,
        ]
    )

    @OptionGroup var global: GlobalOptions

    public init() {}

    /// Makes the app of an application's own executable, while ``main(arguments:app:)`` runs.
    @TaskLocal static var makeApp: (@Sendable (PostgresConnector) throws -> App)?

    /// Runs the command line (`arguments`: the process's when nil) with the app `makeApp`
    /// makes on a connector to the database the command line names, then exits.
    public static func main(arguments: [String]? = nil, app makeApp: @escaping @Sendable (PostgresConnector) throws -> App) async {
        await $makeApp.withValue(makeApp) {
            await main(arguments)
        }
    }
}
