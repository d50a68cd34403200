import Foundation
import Procrastinate

// Article "Getting started": its files are built by GettingStartedTests; this is the code
// after them.

enum GettingStarted {
    struct Greeting: Codable, Sendable {
        var name: String
    }

    enum Tasks {
        static let greet = TaskName<Greeting>("greet")
    }

    static func makeApp(connector: PostgresConnector) throws -> App {
        App(connector: connector, logger: connector.logger)
    }

    static func fromYourCode() async throws {
        let connector = PostgresConnector(settings: try ConnectionSettings(environment: ProcessInfo.processInfo.environment))
        let app = try makeApp(connector: connector)
        try await app.run {
            try await app.defer(Tasks.greet, Greeting(name: "Grace"))
        }
    }
}
