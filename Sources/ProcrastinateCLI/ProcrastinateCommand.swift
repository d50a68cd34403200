import ArgumentParser
import Procrastinate

/// The `procrastinate` command line: administration of a Procrastinate database.
///
/// The standalone `procrastinate` executable runs it as it is; an application's own
/// executable runs it with its app, so that `worker` and `defer` know its tasks:
///
/// ```swift
/// @main enum MyService {
///     static func main() async {
///         let app = App(connector: …)
///         _ = try! app.task("send_email") { (email: SendEmail) in … }
///         await ProcrastinateCommand.main(app: app)
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

    /// The app of an application's own executable, while ``main(app:arguments:)`` runs.
    @TaskLocal static var embeddedApp: App?

    /// Runs the command line with `app`'s tasks and connector (`arguments`: the process's
    /// when nil), then exits.
    public static func main(app: App, arguments: [String]? = nil) async {
        await $embeddedApp.withValue(app) {
            await main(arguments)
        }
    }
}
