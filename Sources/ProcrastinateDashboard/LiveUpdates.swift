import Hummingbird
import NIOCore
import Procrastinate
import Synchronization

/// Server-sent events that tell open pages to refresh: `ready` once the database listens,
/// then one event per burst of job notifications (a job deferred, an abort asked for), and a
/// comment every 5 seconds, which keeps proxies from closing the stream and lets the server
/// notice a page that went away.
///
/// Every stream shares one listening connection, open while at least one page listens, and
/// opened again a second after it failed; the number of streams is bounded all the same.
final class LiveUpdates: Sendable {
    private struct State {
        var subscribers: [Int: AsyncStream<String>.Continuation] = [:]
        var nextID = 0
        var listener: Task<Void, Never>?
        var listening = false
    }

    static let ready = "retry: 5000\ndata: ready\n\n"
    static let job = "data: job\n\n"
    static let keepAlive = ": still here\n\n"

    let connector: PostgresConnector
    let limit: Int
    private let state = Mutex(State())

    init(connector: PostgresConnector, limit: Int) {
        self.connector = connector
        self.limit = limit
    }

    func response() -> Response {
        guard let (id, events) = subscribe() else {
            return Response(status: .serviceUnavailable, body: ResponseBody(byteBuffer: ByteBuffer(string: "too many live pages\n")))
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                defer { self.unsubscribe(id) }
                for await event in events {
                    try await writer.write(ByteBuffer(string: event))
                }
                try await writer.finish(nil)
            }
        )
    }

    /// A new stream of events; nil when ``limit`` streams are open.
    private func subscribe() -> (Int, AsyncStream<String>)? {
        let (events, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(4))
        return state.withLock { state in
            guard state.subscribers.count < limit else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = continuation
            if state.listening { continuation.yield(Self.ready) }
            if state.listener == nil { state.listener = Task { await self.listen() } }
            return (id, events)
        }
    }

    private func unsubscribe(_ id: Int) {
        let listener = state.withLock { state -> Task<Void, Never>? in
            state.subscribers.removeValue(forKey: id)?.finish()
            guard state.subscribers.isEmpty else { return nil }
            defer { state.listener = nil }
            state.listening = false
            return state.listener
        }
        listener?.cancel()
    }

    private func broadcast(_ event: String) {
        state.withLock { state in
            for continuation in state.subscribers.values { continuation.yield(event) }
        }
    }

    /// Listens until cancelled (no page left), opening the connection again a second after
    /// it failed; sends the keep-alive comments meanwhile.
    private func listen() async {
        await withDiscardingTaskGroup { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(5))
                    self.broadcast(Self.keepAlive)
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await self.connector.listen(
                        queues: nil,
                        onReady: {
                            self.state.withLock { $0.listening = true }
                            self.broadcast(Self.ready)
                        },
                        onNotification: { _ in self.broadcast(Self.job) }
                    )
                    self.state.withLock { $0.listening = false }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }
}
