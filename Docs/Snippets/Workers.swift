import Foundation
import Hummingbird
import Logging
import PostgresNIO
import Procrastinate
import ServiceLifecycle

// Article "Workers and deployment".

func runAWorker(app: App) async throws {
    try await app.runWorker(WorkerOptions(queues: ["emails", "reports"], concurrency: 10, shutdownGracefulTimeout: .seconds(30)))
}

func workerBesideAServer(router: Router<BasicRequestContext>, logger: Logger) async throws {
    let settings = try ConnectionSettings.resolve(url: nil)
    let client = PostgresClient(configuration: settings.clientConfiguration, backgroundLogger: logger)
    let app = App(connector: PostgresConnector(client: client, endpoint: settings.endpoint, logger: logger), logger: logger)
    // … register the tasks …
    let worker = Worker(app: app, options: WorkerOptions(concurrency: 10))
    let server = Application(router: router, services: [client, worker], logger: logger)
    try await server.runService()
}

struct TenantMiddleware: JobMiddleware {
    func run(_ context: JobContext, next: (JobContext) async throws -> Void) async throws {
        context.logger.info("tenant \(context.additionalContext["tenant"] ?? "-")")
        try await next(context)
    }
}
