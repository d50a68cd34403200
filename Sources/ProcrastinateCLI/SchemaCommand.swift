import ArgumentParser
import Procrastinate

/// `procrastinate schema`: apply or print the database schema.
struct SchemaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Apply the schema to an empty database, migrate a database, or print the schema.",
        discussion: """
            Examples:
              procrastinate schema --apply
              procrastinate schema --migrate
              procrastinate schema --read > schema.sql
            """
    )

    enum Action: String, EnumerableFlag {
        case apply, migrate, read, migrationsPath

        static func help(for value: Action) -> ArgumentHelp? {
            switch value {
            case .apply: "Create every Procrastinate object in an empty database (default)."
            case .migrate: "Apply the migrations the database lacks, in order (a database set up by Python Procrastinate gets ours)."
            case .read: "Print the schema SQL."
            case .migrationsPath: "Print the folder of the migration files this binary was built with."
            }
        }
    }

    @OptionGroup var global: GlobalOptions
    @Flag var action: Action = .apply

    func run() async throws {
        switch action {
        case .read:
            print(SchemaManager.schemaSQL, terminator: "")
        case .migrationsPath:
            print(SchemaManager.migrationsDirectory)
        case .migrate:
            try await global.withConnector { connector in
                let applied = try await SchemaManager(connector: connector).migrate()
                print(applied.isEmpty
                    ? "\(connector.endpoint) is up to date"
                    : applied.map { "Applied \($0)" }.joined(separator: "\n"))
            }
        case .apply:
            try await global.withConnector { connector in
                try await SchemaManager(connector: connector).apply()
                print("Schema applied to \(connector.endpoint)")
            }
        }
    }
}
