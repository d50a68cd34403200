import Foundation
import Logging
import Metrics
import Procrastinate

// Article "Monitoring".

func monitoring(app: App, logger: Logger) async throws {
    for queue in try await app.jobManager.listQueues() {
        logger.info("\(queue.name): \(queue[.todo]) waiting, \(queue[.doing]) running, \(queue[.failed]) failed")
    }
    let stalled = try await app.jobManager.stalledJobs(secondsSinceHeartbeat: 300)
    if !stalled.isEmpty { logger.warning("\(stalled.count) jobs whose worker went silent") }
    let failed = try await app.jobManager.listJobs(JobFilter(status: .failed))
    for job in failed { try await app.jobManager.retry(id: job.id) }
}
