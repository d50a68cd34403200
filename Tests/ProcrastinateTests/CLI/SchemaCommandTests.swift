import Foundation
import PostgresNIO
import Testing

@testable import Procrastinate

/// `procrastinate schema` and `procrastinate healthchecks`, run as an executable.
@Suite struct SchemaCommandTests {
    @Test func appliesTheSchemaToAnEmptyDatabaseAndSaysWhenItIsUpToDate() async throws {
        try await TestDatabase.withDatabase(nil) { db in
            let first = try await CommandLineRunner.run(["schema", "--apply", "--database-url", try db.testURL])
            #expect(first.status == 0, "\(first.standardError)")
            #expect(first.standardOutput.hasPrefix("Schema applied to "))
            #expect(try await SchemaManager(connector: db).isApplied())

            let again = try await CommandLineRunner.run(["--database-url", try db.testURL, "schema"])
            #expect(again.status == 0, "\(again.standardError)")
            #expect(again.standardOutput == "\(db.endpoint) already holds the schema, up to date: nothing to do\n")

            // A database that lacks a migration is one to migrate, not to apply.
            let newest = try #require(SchemaManager.migrations.last?.name)
            try await db.execute("DELETE FROM procrastinate_swift_migrations WHERE name = \(newest)")
            let partial = try await CommandLineRunner.run(["--database-url", try db.testURL, "schema", "--apply"])
            #expect(partial.status == 1)
            #expect(partial.standardError.hasPrefix("Error: the database \(db.endpoint) already holds Procrastinate objects (function procrastinate_cancel_job_v1,"))
            #expect(partial.standardError.contains("run `procrastinate schema --migrate` instead"))
            #expect(partial.standardError.split(separator: "\n").count == 1)
        }
    }

    @Test func readsTheSchemaWithoutADatabase() async throws {
        let output = try await CommandLineRunner.run(["schema", "--read"])
        #expect(output.status == 0)
        #expect(output.standardOutput == SchemaManager.schemaSQL)
    }

    @Test func listsTheMigrationsWithTheirStateAndMigratesInOrder() async throws {
        // A database Python Procrastinate set up: the 3.10 schema, none of our migrations.
        try await TestDatabase.withDatabase(.python) { db in
            let names = SchemaManager.migrations.map(\.name)
            #expect(names == names.sorted() && names.count >= 4)
            let pending = try await CommandLineRunner.run(["schema", "--migrations", "--database-url", try db.testURL])
            #expect(pending.status == 0, "\(pending.standardError)")
            #expect(pending.standardOutput == names.map { "pending  \($0)\n" }.joined())

            let migrated = try await CommandLineRunner.run(["schema", "--migrate", "--database-url", try db.testURL])
            #expect(migrated.status == 0, "\(migrated.standardError)")
            #expect(migrated.standardOutput == names.map { "Applied \($0)\n" }.joined())

            let applied = try await CommandLineRunner.run(["schema", "--migrations", "--database-url", try db.testURL])
            #expect(applied.standardOutput == names.map { "applied  \($0)\n" }.joined())
            let again = try await CommandLineRunner.run(["schema", "--migrate", "--database-url", try db.testURL])
            #expect(again.standardOutput == "\(db.endpoint) is up to date\n")
            let apply = try await CommandLineRunner.run(["schema", "--apply", "--database-url", try db.testURL])
            #expect(apply.status == 0 && apply.standardOutput.contains("up to date"), "\(apply.standardError)")
        }
    }

    @Test func migratingADatabaseWithoutTheSchemaIsRefused() async throws {
        try await TestDatabase.withDatabase(nil) { db in
            let output = try await CommandLineRunner.run(["schema", "--migrate", "--database-url", try db.testURL])
            #expect(output.status == 1)
            #expect(output.standardError == "Error: the database \(db.endpoint) has no Procrastinate schema: run `procrastinate schema --apply`\n")
        }
    }

    @Test func theVersionIsTheNewestMigrations() async throws {
        let output = try await CommandLineRunner.run(["--version"])
        #expect(output.standardOutput == "\(PackageVersion.current)\n")
        let newest = try #require(SchemaManager.migrations.last?.name)
        #expect(newest.hasPrefix("\(PackageVersion.current)_"))
    }

    @Test func healthchecksReportAMissingSchema() async throws {
        try await TestDatabase.withDatabase(nil) { db in
            let output = try await CommandLineRunner.run(["healthchecks"], environment: ["PROCRASTINATE_DATABASE_URL": try db.testURL])
            #expect(output.status == 1)
            #expect(output.standardOutput == "DB connection: OK\n")
            #expect(output.standardError == "Error: the database \(db.endpoint) has no Procrastinate schema: run `procrastinate schema --apply`\n")
        }
    }

    @Test func healthchecksPassWithTheLibpqVariables() async throws {
        try await TestDatabase.withDatabase { db in
            let settings = try #require(db.settings)
            let output = try await CommandLineRunner.run(["healthchecks"], environment: [
                "PGHOST": settings.host, "PGPORT": "\(settings.port)", "PGUSER": settings.username, "PGDATABASE": settings.database,
            ])
            #expect(output.status == 0, "\(output.standardError)")
            #expect(output.standardOutput == "DB connection: OK\nFound procrastinate_jobs table: OK\n")
        }
    }

    @Test func anUnreachableServerGivesOneLineNamingIt() async throws {
        let output = try await CommandLineRunner.run(["healthchecks", "--database-url", "postgresql://app@127.0.0.1:1/jobs"])
        #expect(output.status == 1)
        #expect(output.standardError == "Error: cannot connect to PostgreSQL at 127.0.0.1:1/jobs: connection refused: "
            + "is PostgreSQL running, and listening on that host and port?\n")
    }

    @Test func anUnknownDatabaseIsNamed() async throws {
        let server = try TestDatabase.serverSettings()
        let url = "postgresql://\(server.username)@\(server.host):\(server.port)/no_such_database"
        let output = try await CommandLineRunner.run(["healthchecks", "--database-url", url])
        #expect(output.status == 1)
        #expect(output.standardError == "Error: cannot connect to PostgreSQL at \(server.host):\(server.port)/no_such_database: "
            + "database \"no_such_database\" does not exist: create it, or fix the database name in the URL (or PGDATABASE)\n")
    }

    @Test func aServerWithoutSSLGetsASentenceSayingWhatToDo() async throws {
        let server = try TestDatabase.serverSettings()
        let url = "postgresql://\(server.username)@\(server.host):\(server.port)/postgres?sslmode=require"
        let output = try await CommandLineRunner.run(["healthchecks", "--database-url", url])
        #expect(output.status == 1)
        #expect(output.standardError == "Error: cannot connect to PostgreSQL at \(server.host):\(server.port)/postgres: "
            + "the server does not accept SSL connections: use sslmode=disable or sslmode=prefer in the URL\n")
    }

    @Test func aBadURLIsNamed() async throws {
        let output = try await CommandLineRunner.run(["healthchecks", "--database-url", "mysql://x"])
        #expect(output.status == 1)
        #expect(output.standardError == "Error: invalid database URL 'mysql://x': the scheme must be postgres:// or postgresql://, not mysql://\n")
    }
}
