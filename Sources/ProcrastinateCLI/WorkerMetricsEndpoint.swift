import Foundation
import Hummingbird
import Metrics
import NIOCore
import Prometheus

/// `worker --metrics-port`: the process's swift-metrics (the worker's among them) in the
/// Prometheus text format at `http://127.0.0.1:PORT/metrics`, for as long as the worker runs.
struct WorkerMetricsEndpoint {
    let port: Int
    let registry = PrometheusCollectorRegistry()

    /// Makes the process's metrics system a Prometheus registry (a process does it once).
    init(port: Int) throws {
        guard (0...65535).contains(port) else { throw CommandError("--metrics-port must be a port number (0 to 65535), not \(port)") }
        self.port = port
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    /// Serves the metrics while `body` runs.
    func serving(_ body: @Sendable () async throws -> Void) async throws {
        let registry = registry
        let router = Router()
        router.get("metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        let server = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in
                FileHandle.standardError.write(Data("Metrics on http://127.0.0.1:\(channel.localAddress?.port ?? port)/metrics\n".utf8))
            }
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            try await body()
            group.cancelAll()
        }
    }
}
