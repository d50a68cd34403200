// Locks and queueing locks.
//
//   scripts/example Locks
//
// Transfers of one account share a lock: they run one at a time, in order, while another
// account's run beside them. A cache refresh has a queueing lock: deferring it while one
// waits is refused, so a burst of requests queues one refresh.
import Foundation
import Logging
import Procrastinate
import Synchronization

struct Transfer: Codable, Sendable {
    var account: Int
    var amount: Int
}

/// Prints with the time since the start, so that the order of runs shows.
final class Clock: Sendable {
    let start = ContinuousClock.now
    func say(_ text: String) {
        let elapsed = ContinuousClock.now - start
        print(String(format: "%6.3f s  ", Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)) + text)
    }
}

@main
enum Locks {
    static func main() async {
        do { try await run() } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run() async throws {
        var logger = Logger(label: "locks")
        logger.logLevel = .warning
        let app = App(connector: PostgresConnector(settings: try ConnectionSettings.resolve(url: nil), logger: logger), logger: logger)
        let clock = Clock()
        let transfer = try app.task("transfer") { (transfer: Transfer) in
            clock.say("start transfer of \(transfer.amount) on account \(transfer.account)")
            try await Task.sleep(for: .milliseconds(200))
            clock.say("end   transfer of \(transfer.amount) on account \(transfer.account)")
        }
        let refresh = try app.task("refresh_cache", queueingLock: "cache") { (_: NoArguments) in
            clock.say("refresh the cache")
        }

        try await app.run {
            for (account, amount) in [(1, 10), (1, 20), (2, 5), (1, 30), (2, 15)] {
                try await transfer.configure(lock: "account:\(account)").defer(Transfer(account: account, amount: amount))
            }
            try await refresh.defer()
            do {
                try await refresh.defer()
            } catch let error as AlreadyEnqueued {
                clock.say("second refresh refused: \(error)")
            }

            let worker = Worker(app: app, options: WorkerOptions(concurrency: 4, fetchJobPollingInterval: .milliseconds(100)))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await worker.run() }
                while try await app.jobManager.listJobs(JobFilter(status: .todo)).count + app.jobManager.listJobs(JobFilter(status: .doing)).count > 0 {
                    try await Task.sleep(for: .milliseconds(50))
                }
                worker.stop()
                try await group.waitForAll()
            }
            print("\nLocks:")
            for lock in try await app.jobManager.listLocks() {
                print("  \(lock.name): \(lock[.succeeded]) succeeded")
            }
        }
    }
}
