import Foundation
import Testing

@testable import Procrastinate

/// `procrastinate schema` and `procrastinate healthchecks`, run as an executable.
@Suite struct SchemaCommandTests {
    @Test func appliesTheSchemaToAnEmptyDatabaseOnly() async throws {
        try await TestDatabase.withDatabase(nil) { db in
            let first = try await CommandLineRunner.run(["schema", "--apply", "--database-url", try db.testURL])
            #expect(first.status == 0, "\(first.standardError)")
            #expect(first.standardOutput.hasPrefix("Schema applied to "))
            #expect(try await SchemaManager(connector: db).isApplied())

            let second = try await CommandLineRunner.run(["--database-url", try db.testURL, "schema"])
            #expect(second.status == 1)
            #expect(second.standardError.hasPrefix("Error: the database \(db.endpoint) already holds Procrastinate objects (function procrastinate_cancel_job_v1,"))
            #expect(second.standardError.split(separator: "\n").count == 1)
        }
    }

    @Test func readsTheSchemaWithoutADatabase() async throws {
        let output = try await CommandLineRunner.run(["schema", "--read"])
        #expect(output.status == 0)
        #expect(output.standardOutput == SchemaManager.schemaSQL)
    }

    @Test func printsTheMigrationsFolder() async throws {
        let output = try await CommandLineRunner.run(["schema", "--migrations-path"])
        #expect(output.status == 0)
        #expect(output.standardOutput.hasSuffix("/sql/migrations\n"))
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
        #expect(output.standardError == "Error: cannot connect to PostgreSQL at 127.0.0.1:1/jobs: connection refused\n")
    }

    @Test func anUnknownDatabaseIsNamed() async throws {
        let server = try TestDatabase.serverSettings()
        let url = "postgresql://\(server.username)@\(server.host):\(server.port)/no_such_database"
        let output = try await CommandLineRunner.run(["healthchecks", "--database-url", url])
        #expect(output.status == 1)
        #expect(output.standardError == "Error: cannot connect to PostgreSQL at \(server.host):\(server.port)/no_such_database: database \"no_such_database\" does not exist\n")
    }

    @Test func aBadURLIsNamed() async throws {
        let output = try await CommandLineRunner.run(["healthchecks", "--database-url", "mysql://x"])
        #expect(output.status == 1)
        #expect(output.standardError == "Error: invalid database URL 'mysql://x': the scheme must be postgres:// or postgresql://, not mysql://\n")
    }
}
