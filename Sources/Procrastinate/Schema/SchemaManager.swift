import Foundation
import PostgresNIO

/// The database objects Procrastinate needs, and applying them.
///
/// The SQL is `sql/schema.sql` and `sql/migrations/` of the package, embedded in the binary at
/// build time.
public struct SchemaManager: Sendable {
    /// A file of `sql/migrations/`.
    public struct Migration: Sendable, Hashable {
        /// The file name without `.sql`, e.g. `0.2.0_01_pre_add_fetch_jobs`.
        public var name: String
        /// The file's SQL.
        public var sql: String
    }

    /// The whole schema, for an empty database.
    public static var schemaSQL: String { EmbeddedSQL.schema }

    /// The migrations shipped with this version, in the order they apply.
    public static var migrations: [Migration] {
        EmbeddedSQL.migrations.map { Migration(name: $0.name, sql: $0.sql) }
    }

    /// The connector whose database this manager works on.
    public let connector: PostgresConnector

    /// A manager for the database of `connector`.
    public init(connector: PostgresConnector) {
        self.connector = connector
    }

    /// Whether the database holds the schema (its `procrastinate_jobs` table).
    public func isApplied() async throws -> Bool {
        try await connector.withConnection { connection in
            let rows = try await connection.query(
                "SELECT to_regclass('procrastinate_jobs') IS NOT NULL", logger: connector.logger
            )
            for try await present in rows.decode(Bool.self) {
                return present
            }
            return false
        }
    }

    /// The Procrastinate objects already in the current schema (tables, sequences, types and
    /// functions whose name starts with `procrastinate_`), as `kind name`.
    public func existingObjects() async throws -> [String] {
        try await connector.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT kind || ' ' || name FROM (
                    SELECT CASE relkind WHEN 'S' THEN 'sequence' WHEN 'c' THEN 'type' ELSE 'table' END AS kind,
                           relname AS name
                    FROM pg_class
                    WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p', 'S', 'c', 'v')
                    UNION ALL
                    SELECT 'type', typname FROM pg_type
                    WHERE typnamespace = current_schema()::regnamespace AND typtype = 'e'
                    UNION ALL
                    SELECT 'function', proname FROM pg_proc
                    WHERE pronamespace = current_schema()::regnamespace
                ) AS objects
                WHERE name LIKE 'procrastinate\\_%'
                ORDER BY kind, name
                """,
                logger: connector.logger
            )
            var names: [String] = []
            for try await name in rows.decode(String.self) {
                names.append(name)
            }
            return names
        }
    }

    /// What ``apply()`` did.
    public enum ApplyOutcome: Sendable, Hashable {
        /// The schema was created.
        case applied
        /// The database already held the schema and every migration: nothing was changed.
        case alreadyUpToDate
    }

    /// Applies the whole schema to an empty database, in one transaction; on a database that
    /// already holds it, migrations included, changes nothing.
    ///
    /// - Throws: ``SchemaError/notEmpty(objects:endpoint:)`` when other Procrastinate objects
    ///   exist already (a database to migrate, or a partial schema; nothing is changed), or a
    ///   ``DatabaseError``.
    @discardableResult
    public func apply() async throws -> ApplyOutcome {
        let existing = try await existingObjects()
        guard existing.isEmpty else {
            if try await isApplied(), try await pendingMigrations().isEmpty {
                return .alreadyUpToDate
            }
            throw SchemaError.notEmpty(objects: existing, endpoint: connector.endpoint)
        }
        try await connector.withTransaction { connection in
            for statement in SQLScript.statements(in: Self.schemaSQL) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: connector.logger)
            }
        }
        return .applied
    }
}

extension SchemaManager {
    /// The names of the migrations the database has (none for a schema applied by Python
    /// Procrastinate alone).
    public func appliedMigrations() async throws -> Set<String> {
        try await connector.withConnection { connection in
            let exists = try await connection.query(
                "SELECT to_regclass('procrastinate_swift_migrations') IS NOT NULL", logger: connector.logger
            ).decode(Bool.self).all().first ?? false
            guard exists else { return [] }
            let names = try await connection.query("SELECT name FROM procrastinate_swift_migrations", logger: connector.logger)
                .decode(String.self).all()
            return Set(names)
        }
    }

    /// Every migration this version ships, in the order they apply, with whether the database
    /// has it.
    public func migrationStates() async throws -> [(migration: Migration, isApplied: Bool)] {
        let applied = try await appliedMigrations()
        return Self.migrations.map { ($0, applied.contains($0.name)) }
    }

    /// The migrations this version ships that the database lacks, in the order they apply.
    public func pendingMigrations() async throws -> [Migration] {
        let applied = try await appliedMigrations()
        return Self.migrations.filter { !applied.contains($0.name) }
    }

    /// Applies the pending migrations in order, each in its own transaction (each records its
    /// name in `procrastinate_swift_migrations`); returns their names.
    ///
    /// - Throws: ``SchemaError/missing(endpoint:)`` on a database without the 3.10 schema.
    @discardableResult
    public func migrate() async throws -> [String] {
        guard try await isApplied() else { throw SchemaError.missing(endpoint: connector.endpoint) }
        var applied: [String] = []
        for migration in try await pendingMigrations() {
            try await connector.withTransaction { connection in
                for statement in SQLScript.statements(in: migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: connector.logger)
                }
            }
            applied.append(migration.name)
        }
        return applied
    }
}
