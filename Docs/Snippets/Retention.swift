import Procrastinate

// Article "Retention".

func retention(app: App) async throws {
    try app.retain(succeeded: .days(7), failed: .days(30))

    let deleted = try await app.jobManager.prune(statuses: [.succeeded, .failed], olderThan: .days(30))
    print(deleted)
}
