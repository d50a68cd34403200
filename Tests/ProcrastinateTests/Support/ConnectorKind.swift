import Procrastinate
import ProcrastinateTesting
import Testing

/// The connectors the behaviour suite runs against: PostgreSQL and the in-memory one.
enum ConnectorKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case postgres
    case memory

    var testDescription: String { rawValue }

    /// Runs `body` with a fresh, empty store of this kind.
    func withConnector<Result: Sendable>(_ body: (any Connector) async throws -> Result) async throws -> Result {
        switch self {
        case .postgres:
            try await TestDatabase.withDatabase { connector in try await body(connector) }
        case .memory:
            try await body(InMemoryConnector())
        }
    }

    /// Runs `body` with an app on a fresh store of this kind.
    func withApp<Result: Sendable>(_ body: (App) async throws -> Result) async throws -> Result {
        try await withConnector { connector in
            try await body(App(connector: connector, logger: TestDatabase.logger))
        }
    }
}

/// Arguments of the tasks of the tests.
struct SendEmail: Codable, Sendable, Equatable {
    var to: String
    var subject: String
}

struct Sum: Codable, Sendable, Equatable {
    var a: Int
    var b: Int
}
