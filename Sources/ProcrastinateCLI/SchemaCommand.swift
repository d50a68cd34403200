import ArgumentParser
import Procrastinate

/// `procrastinate schema`: apply or print the database schema.
struct SchemaCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "schema",
            abstract: "Apply the schema to an empty database, migrate a database, or print the schema.",
            discussion: examples("schema --apply", "schema --migrate", "schema --migrations", "schema --read > schema.sql")
        )
    }

    enum Action: String, EnumerableFlag {
        case apply, migrate, migrations, read

        static func help(for value: Action) -> ArgumentHelp? {
            switch value {
            case .apply: "Create every Procrastinate object in an empty database; say so when it is up to date."
            case .migrate: "Apply the migrations the database lacks, in order (a database set up by Python Procrastinate gets ours)."
            case .read: "Print the schema SQL."
            case .migrations: "List the migrations this binary carries, applied or pending on the database."
            }
        }
    }

    @OptionGroup var global: GlobalOptions
    @Flag var action: Action = .apply

    func run() async throws {
        switch action {
        case .read:
            print(SchemaManager.schemaSQL, terminator: "")
        case .migrations:
            try await global.withConnector { connector in
                for (migration, isApplied) in try await SchemaManager(connector: connector).migrationStates() {
                    print("\(isApplied ? "applied" : "pending")  \(migration.name)")
                }
            }
        case .migrate:
            try await global.withConnector { connector in
                let applied = try await SchemaManager(connector: connector).migrate()
                print(applied.isEmpty
                    ? "\(connector.endpoint) is up to date"
                    : applied.map { "Applied \($0)" }.joined(separator: "\n"))
            }
        case .apply:
            try await global.withConnector { connector in
                switch try await SchemaManager(connector: connector).apply() {
                case .applied: print("Schema applied to \(connector.endpoint)")
                case .alreadyUpToDate: print("\(connector.endpoint) already holds the schema, up to date: nothing to do")
                }
            }
        }
    }
}
