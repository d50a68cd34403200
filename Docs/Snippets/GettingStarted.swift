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

    static func fromYourCode(app: App) async throws {
        try await app.defer(Tasks.greet, Greeting(name: "Grace"))
    }
}
