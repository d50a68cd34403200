import Foundation
import Procrastinate
import Synchronization

/// Waits until `condition` holds, checking every 20 ms, failing after `timeout`. The default
/// deadline is generous: the suite runs its tests in parallel on as few as two cores, where a
/// condition that holds within a second alone may wait for the others' processes.
func eventually(
    _ what: String, timeout: Duration = .seconds(60), _ condition: @escaping @Sendable () async throws -> Bool
) async throws {
    try await within(timeout, waitingFor: what) {
        while try await !condition() {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// A worker running in the background of a test.
struct RunningWorker: Sendable {
    let worker: Worker
    let task: Task<Void, any Error>

    /// Starts `worker`.
    init(_ worker: Worker) {
        self.worker = worker
        self.task = Task { try await worker.run() }
    }

    /// Asks it to stop and waits until it returned.
    func stop() async throws {
        worker.stop()
        try await finished()
    }

    /// Waits until it returned by itself.
    func finished(timeout: Duration = .seconds(20)) async throws {
        let task = self.task
        try await within(timeout, waitingFor: "the worker to stop") { try await task.value }
    }
}

/// What the tasks of a test did, in order, with times.
final class Journal: Sendable {
    struct Entry: Sendable {
        var label: String
        var at: ContinuousClock.Instant
    }

    private let entries = Mutex<[Entry]>([])

    func record(_ label: String) {
        entries.withLock { $0.append(Entry(label: label, at: .now)) }
    }

    var labels: [String] { entries.withLock { $0.map(\.label) } }
    var all: [Entry] { entries.withLock { $0 } }

    func count(_ label: String) -> Int { labels.filter { $0 == label }.count }
}

extension WorkerOptions {
    /// Options for tests: quick polling, quick shutdown.
    static func test(
        queues: [String]? = nil, concurrency: Int = 1, wait: Bool = true, listenNotify: Bool = true,
        shutdownGracefulTimeout: Duration? = nil, stalledJobRecoveryThreshold: Duration? = nil, name: String = "worker"
    ) -> WorkerOptions {
        WorkerOptions(
            queues: queues, name: name, concurrency: concurrency, wait: wait, fetchJobPollingInterval: .milliseconds(200),
            abortJobPollingInterval: .milliseconds(200), listenNotify: listenNotify, shutdownGracefulTimeout: shutdownGracefulTimeout,
            updateHeartbeatInterval: .milliseconds(200), stalledJobRecoveryThreshold: stalledJobRecoveryThreshold
        )
    }
}
