public import PostgresNIO
import Synchronization

extension PostgresConnector {
    /// Runs one of the connector's own operations on a pooled connection, bounded and
    /// acknowledged:
    ///
    /// - Acknowledged: the operation runs in a transaction whose COMMIT is awaited, so it
    ///   returns only once its writes are committed (durably, with `synchronous_commit` on), and
    ///   a commit that fails is an error. (A statement outside a transaction block commits at
    ///   the Sync message after its rows, which PostgresNIO does not wait for.)
    /// - Bounded: when no connection was leased and answered within ``queryTimeout``, the
    ///   connection is closed (the pool makes another) and the operation fails with a
    ///   ``DatabaseError`` saying so, without waiting for the connection to notice: a server
    ///   that stops answering never hangs a worker, and one that accepts no connection fails
    ///   the operation within the same bound (not after the pool's own minute of retries).
    ///
    /// `writes: false` runs the operation alone, without the transaction's two round trips: a
    /// read, which acknowledges nothing, or a procedure that commits before it answers.
    ///
    /// `answeringWithin` gives an operation whose statements the server bounds itself (a
    /// `statement_timeout`) longer to answer once it has its connection; getting the
    /// connection stays bounded by ``queryTimeout``.
    public func perform<Result: Sendable>(
        writes: Bool = true, answeringWithin answerTimeout: Duration? = nil,
        _ operation: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try checkOpen()
        let leased = LeasedConnection()
        let (client, logger, endpoint, queryTimeout) = (client, logger, endpoint, queryTimeout)
        let leaseAndRun = { @Sendable in
            try await client.withConnection { connection in
                leased.set(connection)
                guard writes else { return try await operation(connection) }
                return try await connection.withTransaction(logger: logger) { connection in try await operation(connection) }
            }
        }
        do {
            guard let answerTimeout else {
                return try await Self.bounded(within: queryTimeout, endpoint: endpoint, onTimeout: leased.close, leaseAndRun)
            }
            return try await Self.bounded(within: answerTimeout, endpoint: endpoint, onTimeout: leased.close) {
                try await Self.bounded(within: queryTimeout, endpoint: endpoint, unless: { leased.current != nil }, onTimeout: {}, leaseAndRun)
            }
        } catch let error as DatabaseError where error.isNoAnswer && leased.current == nil {
            throw DatabaseError.noConnection(endpoint: endpoint, within: queryTimeout)
        } catch {
            throw describe(error)
        }
    }

    /// Runs `operation` in a task of its own and returns its result, or after `timeout` calls
    /// `onTimeout` (which closes the connection it uses) and throws ``DatabaseError`` "no
    /// answer", without waiting for the operation to notice: PostgresNIO may never complete a
    /// query on a connection whose server went silent. Cancelling the caller cancels the
    /// operation. When `unless` holds at `timeout`, the operation goes on (another bound is
    /// then the caller's).
    static func bounded<Result: Sendable>(
        within timeout: Duration, endpoint: String, unless spared: (@Sendable () -> Bool)? = nil,
        onTimeout: @escaping @Sendable () -> Void, _ operation: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        let outcome = FirstOutcome<Result>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                outcome.start(continuation)
                let work = Task {
                    do {
                        outcome.resume(with: .success(try await operation()))
                    } catch {
                        outcome.resume(with: .failure(error))
                    }
                }
                let timer = Task {
                    try? await Task.sleep(for: timeout)
                    guard !Task.isCancelled, !(spared?() ?? false),
                        outcome.resume(with: .failure(DatabaseError.noAnswer(endpoint: endpoint, within: timeout)))
                    else { return }
                    onTimeout()
                    work.cancel()
                }
                outcome.onResume { [timer, work] cancelled in
                    timer.cancel()
                    if cancelled { work.cancel() }
                }
            }
        } onCancel: {
            outcome.resume(with: .failure(CancellationError()), cancelled: true)
        }
    }
}

/// The first of an operation's outcomes (its result, its timeout, its caller's cancellation),
/// given to the caller's continuation once.
private final class FirstOutcome<Value: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Value, any Error>?
        var early: (Result<Value, any Error>, cancelled: Bool)?
        var resumed = false
        var cleanUp: (@Sendable (_ cancelled: Bool) -> Void)?
    }

    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<Value, any Error>) {
        let early = state.withLock { state in
            state.continuation = continuation
            return state.early
        }
        if let early { continuation.resume(with: early.0) }
    }

    /// What to do once resumed (stop the timer; stop the work when the caller was cancelled).
    func onResume(_ cleanUp: @escaping @Sendable (_ cancelled: Bool) -> Void) {
        let resumed = state.withLock { state in
            state.cleanUp = cleanUp
            return state.resumed ? state.early?.cancelled ?? false : nil
        }
        if let resumed { cleanUp(resumed) }
    }

    /// Gives `result` to the caller unless an outcome came first; returns whether it did.
    @discardableResult
    func resume(with result: Result<Value, any Error>, cancelled: Bool = false) -> Bool {
        let (first, continuation, cleanUp) = state.withLock { state in
            guard !state.resumed else { return (false, CheckedContinuation<Value, any Error>?.none, (@Sendable (Bool) -> Void)?.none) }
            state.resumed = true
            state.early = (result, cancelled)
            defer { state.continuation = nil }
            return (true, state.continuation, state.cleanUp)
        }
        guard first else { return false }
        continuation?.resume(with: result)
        cleanUp?(cancelled)
        return true
    }
}

/// The connection an operation leased, to close when it stops answering.
final class LeasedConnection: Sendable {
    private let connection = Mutex<PostgresConnection?>(nil)

    /// The connection, once leased.
    var current: PostgresConnection? { connection.withLock { $0 } }

    func set(_ leased: PostgresConnection) {
        connection.withLock { $0 = leased }
    }

    func close() {
        if let leased = connection.withLock({ $0 }) {
            let _: EventLoopFuture<Void> = leased.close()
        }
    }
}
