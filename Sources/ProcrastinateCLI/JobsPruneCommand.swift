import ArgumentParser
import Foundation
import Procrastinate

extension JobsCommand {
    /// `procrastinate jobs prune`: deletes old finished jobs once, in batches.
    struct Prune: AsyncParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "Delete finished jobs older than an age, with their events, in short batches.",
                discussion: """
                    A job's age is the time since its latest event (jobs without events stay). \
                    The table is walked in id order in batches, each its own short transaction, \
                    so workers go on meanwhile. Schedule it with app.retain(…) instead of cron.


                    """ + examples("jobs prune --older-than 7d", "jobs prune --older-than 30d --status succeeded,failed,cancelled --queue emails")
            )
        }
        @OptionGroup var global: GlobalOptions
        @Option(help: "Delete jobs whose latest event is older than this: a number with s, m, h, d or w (7d, 12h).")
        var olderThan: JobAge
        @Option(help: "The statuses to delete, comma-separated: succeeded, failed, cancelled, aborted.")
        var status: StatusList = StatusList(statuses: [.succeeded])
        @Option(help: "Only this queue's jobs.") var queue: String?
        @Option(parsing: .unconditional, help: "Rows examined per batch (per transaction).") var batchSize: Int = 1000

        func validate() throws {
            guard batchSize > 0 else { throw ValidationError("--batch-size must be at least 1") }
        }

        func run() async throws {
            try await global.withApp { app in
                let deleted = try await app.jobManager.prune(statuses: status.statuses, olderThan: olderThan.duration, queue: queue, batchSize: batchSize)
                let statuses = status.statuses.map(\.rawValue).joined(separator: ", ")
                print("Deleted \(deleted) \(deleted == 1 ? "job" : "jobs") (\(statuses)) older than \(olderThan.text)\(queue.map { " of queue \($0)" } ?? "")")
            }
        }
    }
}

/// An age on the command line: a number and a unit, `45s`, `30m`, `12h`, `7d` or `2w`.
struct JobAge: ExpressibleByArgument {
    var duration: Duration
    var text: String

    init?(argument: String) {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        guard let unit = argument.last, let size = units[unit], let count = Int(argument.dropLast()), count >= 0 else { return nil }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow else { return nil }
        duration = .seconds(seconds)
        text = argument
    }

    static var defaultCompletionKind: CompletionKind { .list(["1h", "1d", "7d", "30d"]) }
}

/// Final statuses on the command line, comma-separated.
struct StatusList: ExpressibleByArgument {
    var statuses: [JobStatus]

    init(statuses: [JobStatus]) {
        self.statuses = statuses
    }

    init?(argument: String) {
        let statuses = argument.split(separator: ",").map { JobStatus(rawValue: $0.trimmingCharacters(in: .whitespaces)) }
        guard !statuses.isEmpty, statuses.allSatisfy({ $0?.isFinal ?? false }) else { return nil }
        self.statuses = statuses.compactMap { $0 }
    }

    var defaultValueDescription: String { statuses.map(\.rawValue).joined(separator: ",") }
}
