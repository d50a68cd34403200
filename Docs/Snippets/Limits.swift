import Foundation
import Procrastinate

// Article "Concurrency limits, rate limits and paused queues".

struct Sync: Codable, Sendable {
    var tenant: Int
}

func limits(app: App) async throws {
    // At most 3 jobs of one tenant running at once, across every worker.
    let sync = try app.task("sync", keyLimit: Limit(concurrency: 3), limitKey: { (job: Sync) in "tenant:\(job.tenant)" }) {
        (job: Sync) in
        print("syncing tenant \(job.tenant)")
    }
    try await sync.defer(Sync(tenant: 42))
    // A key given per call wins over the computed one.
    try await sync.configure(limitKey: "tenant:vip").defer(Sync(tenant: 7))

    // At most 50 calls per second to a partner's API, whichever worker makes them.
    let call = try app.task("partner_call", limit: Limit(rate: Limit.Rate(50, per: .seconds(1)))) { (_: NoArguments) in }
    try await call.defer()

    // At most 20 jobs of the queue "emails" at once.
    try app.limit(queue: "emails", Limit(concurrency: 20))

    let manager = app.jobManager
    try await manager.pause(queue: "emails")
    try await manager.resume(queue: "emails")
    for usage in try await manager.limits() {
        print(usage.target, usage.running, usage.waiting, usage.isFull)
    }
}

func limitsInTheReadme(app: App) throws {
    // At most 3 jobs of one tenant running at once, across every worker.
    let sync = try app.task("sync", keyLimit: Limit(concurrency: 3), limitKey: { (job: Sync) in "tenant:\(job.tenant)" }) {
        (job: Sync) in
        print("syncing tenant \(job.tenant)")
    }
    // At most 50 calls per second to a partner's API, whichever worker makes them.
    let call = try app.task("partner_call", limit: Limit(rate: Limit.Rate(50, per: .seconds(1)))) { (_: NoArguments) in }
    // At most 20 jobs of the queue "emails" at once.
    try app.limit(queue: "emails", Limit(concurrency: 20))
    _ = (sync, call)
}
