import Foundation
import Procrastinate

// Article "Migrations".

func migrateAtStart(connector: PostgresConnector) async throws {
    let applied = try await SchemaManager(connector: connector).migrate()
    for name in applied { print("applied \(name)") }
}
