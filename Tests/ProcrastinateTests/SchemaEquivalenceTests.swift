import Foundation
import Testing

@testable import Procrastinate

/// Our `sql/schema.sql` against the `schema.sql` bundled with Python Procrastinate 3.10.
@Suite struct SchemaEquivalenceTests {
    @Test func ourSchemaHasTheSameObjectsAsPythonProcrastinate() async throws {
        let python = try await TestDatabase.withDatabase(.python) { connector in
            try await Catalog.lines(of: connector)
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
