import Hummingbird
import NIOCore
import Procrastinate
import Synchronization

/// Server-sent events that tell open pages to refresh: one event per burst of the database's
/// job notifications (a job deferred, an abort asked for), and a comment every 15 seconds to
/// keep proxies from closing the stream. Each stream listens on a connection of its own, so
/// their number is bounded; a page without one refreshes on its timer.
final class LiveUpdates: Sendable {
    let connector: PostgresConnector
    let limit: Int
    private let open = Atomic<Int>(0)

    init(connector: PostgresConnector, limit: Int) {
        self.connector = connector
        self.limit = limit
    }

    func response() -> Response {
        guard open.add(1, ordering: .relaxed).newValue <= limit else {
            open.subtract(1, ordering: .relaxed)
            return Response(status: .serviceUnavailable, body: ResponseBody(byteBuffer: ByteBuffer(string: "too many live pages\n")))
        }
        let connector = connector
        let counter = self
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                defer { counter.closed() }
                let (events, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(1))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        // A stream ends with its listener: the browser connects again after `retry`.
                        defer { continuation.finish() }
                        try await connector.listen(queues: nil, onReady: { continuation.yield("retry: 5000\ndata: ready\n\n") }) { _ in
                            continuation.yield("data: job\n\n")
                        }
                    }
                    group.addTask {
                        while true {
                            try await Task.sleep(for: .seconds(15))
                            continuation.yield(": still here\n\n")
                        }
                    }
                    for await event in events {
                        try await writer.write(ByteBuffer(string: event))
                    }
                    group.cancelAll()
                }
                try await writer.finish(nil)
            }
        )
    }

    private func closed() {
        open.subtract(1, ordering: .relaxed)
    }
}
