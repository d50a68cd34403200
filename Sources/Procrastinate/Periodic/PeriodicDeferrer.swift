import Cron
import Foundation
import Logging

/// Which missed ticks a starting deferrer defers.
public enum PeriodicCatchUp: String, Sendable, CaseIterable {
    /// Procrastinate's rule: only the latest missed tick, if it is recent enough.
    case latest
    /// Every missed tick that is recent enough.
    case all
}

/// Defers the ticks of periodic tasks, inside each worker. Every worker may run one: the
/// database keeps one job per (task, periodic id, tick), so each tick is deferred once.
struct PeriodicDeferrer: Sendable {
    let app: App
    let tasks: [PeriodicTask]
    let clock: any WallClock
    /// How old a missed tick may be and still be deferred at start.
    let maxDelay: Duration
    let catchUp: PeriodicCatchUp
    let logger: Logger

    /// Defers the missed ticks, then every tick as it comes, until cancelled.
    func run() async {
        guard !tasks.isEmpty else { return }
        let start = seconds(clock.now())
        // The last tick each task has had deferred (or skipped): later ones are due.
        var seen = [Int64](repeating: start, count: tasks.count)
        for (index, task) in tasks.enumerated() {
            let missed = ticks(of: task, after: start - Int64(maxDelay.seconds) - 1, through: start)
            for tick in catchUp == .latest ? Array(missed.suffix(1)) : missed {
                if await !deferTick(tick, of: task) { seen[index] = tick - 1 }
            }
        }
        while !Task.isCancelled {
            let upcoming = tasks.indices.compactMap { index in
                tasks[index].schedule.next(after: Date(timeIntervalSince1970: TimeInterval(seen[index])))
            }
            guard let next = upcoming.min() else { return }
            logger.debug("Waiting for the next tick at \(next)", metadata: ["action": "wait_next_tick"])
            do {
                try await clock.sleep(until: next)
            } catch {
                return
            }
            let now = seconds(clock.now())
            var failed = false
            for (index, task) in tasks.enumerated() {
                for tick in ticks(of: task, after: seen[index], through: now) {
                    // A tick that could not be written is tried again at the next wake-up.
                    guard await deferTick(tick, of: task) else {
                        failed = true
                        break
                    }
                    seen[index] = tick
                }
                if seen[index] < now, ticks(of: task, after: seen[index], through: now).isEmpty {
                    seen[index] = now
                }
            }
            if failed {
                try? await clock.sleep(until: Date(timeIntervalSince1970: TimeInterval(now + 1)))
            }
        }
    }

    private func seconds(_ date: Date) -> Int64 {
        Int64(date.timeIntervalSince1970.rounded(.down))
    }

    /// The ticks of `task` in (after, through].
    func ticks(of task: PeriodicTask, after: Int64, through: Int64) -> [Int64] {
        task.schedule.dates(after: Date(timeIntervalSince1970: TimeInterval(after)))
            .lazy.map(seconds).prefix { $0 <= through }.map { $0 }
    }

    /// Defers one tick; returns false when it should be tried again (a database error).
    func deferTick(_ tick: Int64, of task: PeriodicTask) async -> Bool {
        let metadata: Logger.Metadata = [
            "task": "\(task.taskName)", "periodic_id": "\(task.periodicID)", "defer_timestamp": "\(tick)",
        ]
        guard let definition = app.task(named: task.taskName) else {
            logger.error("Periodic task \(task.taskName) is not registered", metadata: metadata.merging(["action": "periodic_deferrer_no_task"]) { $1 })
            return true
        }
        do {
            let job = try task.job(at: tick, defaults: definition.options)
            if let id = try await app.connector.deferPeriodicJob(job, periodicID: task.periodicID, timestamp: tick) {
                logger.info(
                    "Periodic job \(task.taskName) deferred for tick \(tick) as job \(id)",
                    metadata: metadata.merging(["action": "periodic_task_deferred", "job_id": "\(id)"]) { $1 }
                )
            } else {
                logger.debug(
                    "Periodic job \(task.taskName) already deferred for tick \(tick)",
                    metadata: metadata.merging(["action": "periodic_task_already_deferred"]) { $1 }
                )
            }
            return true
        } catch let error as AlreadyEnqueued {
            logger.info(
                "Skipped tick \(tick) of \(task.taskName): \(error)",
                metadata: metadata.merging(["action": "skip_periodic_task_queueing_lock"]) { $1 }
            )
            return true
        } catch {
            logger.error("Could not defer tick \(tick) of \(task.taskName): \(error)", metadata: metadata.merging(["action": "periodic_defer_failed"]) { $1 })
            return false
        }
    }
}
