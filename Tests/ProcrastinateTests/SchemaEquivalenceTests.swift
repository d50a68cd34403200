import Foundation
import Testing

@testable import Procrastinate

/// Our `sql/schema.sql` against the `schema.sql` bundled with Python Procrastinate 3.10.
@Suite struct SchemaEquivalenceTests {
    /// The Python package's schema, whose path `scripts/test` exports after installing
    /// `procrastinate==3.10.0` in its virtualenv.
    static func pythonSchema() throws -> String {
        guard let path = ProcessInfo.processInfo.environment["PROCRASTINATE_PYTHON_SCHEMA"] else {
            throw SchemaNotFound()
        }
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    struct SchemaNotFound: Error, CustomStringConvertible {
        var description: String {
            "PROCRASTINATE_PYTHON_SCHEMA is not set: run `scripts/test`, which installs procrastinate==3.10.0 in a virtualenv and points it at its schema.sql"
        }
    }

    @Test func ourSchemaHasTheSameObjectsAsPythonProcrastinate() async throws {
        let pythonSQL = try Self.pythonSchema()
        let python = try await TestDatabase.withDatabase(schema: false) { connector in
            try await connector.withTransaction { connection in
                for statement in SQLScript.statements(in: pythonSQL) {
                    try await connection.query(.init(unsafeSQL: statement), logger: TestDatabase.logger)
                }
            }
            return try await Catalog.lines(of: connector)
        }
        let ours = try await TestDatabase.withDatabase { connector in
            try await Catalog.lines(of: connector)
        }
        let comparable = ours.filter { !Catalog.isOwnAddition($0) }

        #expect(python.count > 70, "the catalog query found too little in Python's schema")
        let difference = Catalog.difference(
            expected: python, expectedName: "Python 3.10", actual: comparable, actualName: "ours"
        )
        #expect(difference.isEmpty, "sql/schema.sql differs from Procrastinate 3.10:\n\(difference)")
    }

    @Test func catalogDifferenceNamesBothSides() {
        let report = Catalog.difference(
            expected: ["function f(a integer) RETURNS void", "index i: same"], expectedName: "Python 3.10",
            actual: ["function f(b integer) RETURNS void", "index i: same"], actualName: "ours"
        )
        #expect(report == """
              only in Python 3.10: function f(a integer) RETURNS void
              only in ours:   function f(b integer) RETURNS void

            """)
    }
}
