import ArgumentParser

/// The `procrastinate` command line: administration of a Procrastinate database.
///
/// The standalone `procrastinate` executable runs it as it is; an application's own
/// executable can run it too, so that its commands know the application's tasks.
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
        subcommands: [SchemaCommand.self, HealthchecksCommand.self, CronCommand.self, CrontabCommand.self]
    )

    @OptionGroup var global: GlobalOptions

    public init() {}
}
