import ServiceLifecycle
import UnixSignals

extension App {
    /// Opens the connector and runs a worker until SIGINT or SIGTERM (or, with `wait: false`,
    /// until the queues are empty).
    public func runWorker(_ options: WorkerOptions = WorkerOptions()) async throws {
        try await run {
            try await workUntilStopped(options)
        }
    }

    /// Runs a worker until SIGINT or SIGTERM (or, with `wait: false`, until the queues are
    /// empty); the connector must be open.
    public func workUntilStopped(_ options: WorkerOptions) async throws {
        let worker = Worker(app: self, options: options)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }
}
