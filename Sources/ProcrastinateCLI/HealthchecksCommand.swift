import ArgumentParser
import Procrastinate

/// `procrastinate healthchecks`: can we reach the database, and does it hold the schema?
struct HealthchecksCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "healthchecks",
            abstract: "Check the database connection and the schema; exit status 1 with the reason on failure.",
            discussion: examples("healthchecks --database-url postgresql://app@db/app")
        )
    }

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await global.withConnector { connector in
            print("DB connection: OK")
            guard try await SchemaManager(connector: connector).isApplied() else {
                throw SchemaError.missing(endpoint: connector.endpoint)
            }
            print("Found procrastinate_jobs table: OK")
        }
    }
}
