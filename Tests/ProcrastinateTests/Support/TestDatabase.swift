import Foundation
import Logging
import PostgresNIO
import Testing

@testable import Procrastinate

/// Whose `schema.sql` a test database holds.
enum SchemaSource: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// Our `sql/schema.sql`.
    case ours
    /// The `schema.sql` bundled with Python Procrastinate 3.10, which `scripts/test` installs.
    case python

    var testDescription: String { rawValue }

    struct PythonSchemaNotFound: Error, CustomStringConvertible {
        var description: String {
            "PROCRASTINATE_PYTHON_SCHEMA is not set: run `scripts/test`, which installs procrastinate==3.10.0 in a virtualenv and points it at its schema.sql"
        }
    }

    /// The SQL of the schema.
    func sql() throws -> String {
        switch self {
        case .ours:
            return SchemaManager.schemaSQL
        case .python:
            guard let path = ProcessInfo.processInfo.environment["PROCRASTINATE_PYTHON_SCHEMA"] else {
                throw PythonSchemaNotFound()
            }
            return try String(contentsOfFile: path, encoding: .utf8)
        }
    }
}

/// Throwaway databases for tests: each test gets its own, so the suite runs in parallel.
///
/// The server comes from `PROCRASTINATE_DATABASE_URL` (or `DATABASE_URL`), which
/// `scripts/test` sets after starting a throwaway PostgreSQL. Databases holding the schema are
/// copied from a template made once per schema version.
enum TestDatabase {
    struct NotConfigured: Error, CustomStringConvertible {
        var description: String {
            "database tests need PostgreSQL: run `scripts/test` (it starts a throwaway server), "
                + "or set PROCRASTINATE_DATABASE_URL to a server where databases may be created"
        }
    }

    static let logger: Logger = {
        var logger = Logger(label: "procrastinate.tests")
        logger.logLevel = .error
        return logger
    }()

    /// The server's maintenance database.
    static func serverSettings() throws -> ConnectionSettings {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["PROCRASTINATE_DATABASE_URL"] ?? environment["DATABASE_URL"], !url.isEmpty else {
            throw NotConfigured()
        }
        return try ConnectionSettings(url: url)
    }

    /// Runs `body` with a connector to a new database holding the schema of `source` (none
    /// when nil); the database is dropped afterwards.
    static func withDatabase<Result: Sendable>(
        _ source: SchemaSource? = .ours,
        _ body: (PostgresConnector) async throws -> Result
    ) async throws -> Result {
        let server = try serverSettings()
        var template = "template0"
        if let source {
            template = try await Template.shared.name(for: source, server: server)
        }
        let name = "procrastinate_test_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        try await execute("CREATE DATABASE \(name) TEMPLATE \(template)", on: server)
        var settings = server
        settings.database = name
        do {
            let result = try await PostgresConnector(settings: settings, logger: logger).run(body)
            try await execute("DROP DATABASE \(name) WITH (FORCE)", on: server)
            return result
        } catch {
            try? await execute("DROP DATABASE \(name) WITH (FORCE)", on: server)
            throw error
        }
    }

    /// Runs one statement on its own connection to `settings`.
    static func execute(_ sql: String, on settings: ConnectionSettings) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: settings.connectionConfiguration(), id: 1, logger: logger
        )
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw DatabaseError.wrapping(error, endpoint: settings.endpoint)
        }
    }

    /// Template databases holding each schema, made on first use.
    actor Template {
        static let shared = Template()
        private var made: [SchemaSource: Task<String, any Error>] = [:]

        func name(for source: SchemaSource, server: ConnectionSettings) async throws -> String {
            if let task = made[source] { return try await task.value }
            let sql = try source.sql()
            let task = Task { try await Self.make(sql: sql, server: server) }
            made[source] = task
            return try await task.value
        }

        private static func make(sql: String, server: ConnectionSettings) async throws -> String {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in sql.utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
            let name = "procrastinate_template_\(String(hash, radix: 16))"
            let building = "\(name)_building_\(UUID().uuidString.prefix(8).lowercased())"
            let connection = try await PostgresConnection.connect(
                configuration: server.connectionConfiguration(), id: 2, logger: logger
            )
            defer { Task { try? await connection.close() } }
            let existing = try await connection.query(
                "SELECT 1 FROM pg_database WHERE datname = \(name)", logger: logger
            ).collect()
            guard existing.isEmpty else { return name }

            // Built under a temporary name and renamed, so no test ever copies a half-made template.
            try await execute("CREATE DATABASE \(building) TEMPLATE template0", on: server)
            var settings = server
            settings.database = building
            try await PostgresConnector(settings: settings, logger: logger).run { connector in
                try await connector.withTransaction { connection in
                    for statement in SQLScript.statements(in: sql) {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                }
            }
            do {
                try await execute("ALTER DATABASE \(building) RENAME TO \(name)", on: server)
            } catch {
                // Another test process made it meanwhile.
                try? await execute("DROP DATABASE \(building) WITH (FORCE)", on: server)
            }
            return name
        }
    }
}

/// Raw SQL for tests: errors are ``DatabaseError``s as PostgreSQL reported them, without the
/// connector's translations (such as ``AlreadyEnqueued``).
extension PostgresConnector {
    /// The rows of `query`, decoded as `T`.
    func rows<each T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as types: (repeat each T).Type) async throws -> [(repeat each T)] {
        do {
            return try await client.withConnection { connection in
                var values: [(repeat each T)] = []
                for try await row in try await connection.query(query, logger: TestDatabase.logger).decode(types) {
                    values.append(row)
                }
                return values
            }
        } catch {
            throw DatabaseError.wrapping(error, endpoint: endpoint)
        }
    }

    /// The first column of the first row of `query` (nil when there is no row; decode as an
    /// optional type where the value may be NULL).
    func value<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: T.Type = T.self) async throws -> T? {
        try await rows(query, as: T.self).first
    }

    /// Runs `query`, ignoring its rows.
    func execute(_ query: PostgresQuery) async throws {
        do {
            _ = try await client.withConnection { connection in
                try await connection.query(query, logger: TestDatabase.logger).collect().count
            }
        } catch {
            throw DatabaseError.wrapping(error, endpoint: endpoint)
        }
    }
}
