import ArgumentParser
import Foundation
import Procrastinate

/// `procrastinate limits`: the concurrency and rate limits, and setting them.
struct LimitsCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "limits", abstract: "Concurrency and rate limits of queues, tasks and limit keys, with their use.",
            discussion: examples("limits --json", "limits set queue emails --concurrency 20 --rate 100/1m", "limits remove queue emails"),
            subcommands: [ListLimitsCommand.self, SetLimitCommand.self, RemoveLimitCommand.self],
            defaultSubcommand: ListLimitsCommand.self
        )
    }
}

/// `procrastinate limits [list]`.
struct ListLimitsCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "list",
            abstract: "Each limit with its jobs running and waiting, and its starts in the rate's period: what `limits` alone runs."
        )
    }
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        struct Report: Encodable {
            var scope: String
            var name: String
            var concurrency: Int?
            var rate_count: Int?
            var rate_period_seconds: Double?
            var rate_burst: Int?
            var running: Int
            var waiting: Int
            var recent_starts: Int
            var full: Bool
        }
        try await global.withApp { app in
            let limits = try await app.jobManager.limits()
            let paused = try await app.jobManager.pausedQueues()
            let reports = limits.map {
                Report(
                    scope: $0.target.scope, name: $0.target.name, concurrency: $0.limit.concurrency, rate_count: $0.limit.rate?.count,
                    rate_period_seconds: $0.limit.rate?.period.seconds, rate_burst: $0.limit.rate?.burst, running: $0.running, waiting: $0.waiting,
                    recent_starts: $0.recentStarts, full: $0.isFull
                )
            }
            try output.emit(reports) {
                let pauses = paused.map { "queue \($0.name): paused since \(ProcrastinateShell.pythonDateString($0.since))" }
                return limits.isEmpty && pauses.isEmpty ? ["No limits, and no queue is paused"] : limits.map(Self.describe) + pauses
            }
        }
    }

    /// `queue emails: concurrency 20 (3 running), rate 100/60s burst 10 (12 started), 40 waiting [full]`.
    static func describe(_ usage: LimitUsage) -> String {
        var parts: [String] = []
        if let concurrency = usage.limit.concurrency {
            parts.append("concurrency \(concurrency) (\(usage.running) running)")
        } else {
            parts.append("\(usage.running) running")
        }
        if let rate = usage.limit.rate {
            parts.append("rate \(rate.count)/\(RateArgument.describe(rate.period)) burst \(rate.burst) (\(usage.recentStarts) started)")
        }
        parts.append("\(usage.waiting) waiting")
        return "\(usage.target.scope) \(usage.target.name): " + parts.joined(separator: ", ") + (usage.isFull ? " [full]" : "")
    }
}

/// What `limits set` and `limits remove` act on.
enum LimitScopeArgument: String, ExpressibleByArgument, CaseIterable {
    case queue, task, key

    func target(_ name: String) -> LimitTarget {
        switch self {
        case .queue: .queue(name)
        case .task: .task(name)
        case .key: .key(name)
        }
    }
}

/// A rate on the command line: `COUNT/PERIOD`, the period a number and a unit (`ms`, `s`,
/// `m`, `h`, `d`) or a unit alone: `50/1s`, `50/s`, `1000/1h`.
struct RateArgument: ExpressibleByArgument {
    var rate: Limit.Rate

    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Int(parts[0]) else { return nil }
        let period = parts[1]
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3_600), ("d", 86_400)]
        guard let (unit, size) = units.first(where: { period.hasSuffix($0.0) && Double(period.dropLast($0.0.count)) != nil || period == $0.0 })
        else { return nil }
        let number = period == unit ? 1 : Double(period.dropLast(unit.count))!
        rate = Limit.Rate(count, per: .milliseconds(Int64((number * size * 1000).rounded())))
    }

    /// `1s`, `60s`, `0.5s`.
    static func describe(_ period: Duration) -> String {
        let seconds = period.seconds
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
    }
}

/// `procrastinate limits set SCOPE NAME [--concurrency N] [--rate COUNT/PERIOD]`.
struct SetLimitCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "set",
            abstract: "Set the limit of a queue, a task or a limit key for every Swift worker.",
            discussion: "A worker whose application declares a limit writes it again when it starts."
        )
    }
    @OptionGroup var global: GlobalOptions
    @Argument(help: "What the limit applies to.") var scope: LimitScopeArgument
    @Argument(help: "The queue's, task's or key's name.") var name: String
    @Option(parsing: .unconditional, help: "At most this many jobs running at once.") var concurrency: Int?
    @Option(help: "At most COUNT starts in any PERIOD: 50/1s, 100/m, 1000/1h.") var rate: RateArgument?
    @Option(parsing: .unconditional, help: "With --rate: at most this many starts at once (a tenth of COUNT, rounded up, unless given; COUNT for no pacing).")
    var burst: Int?
    @Flag(help: "Limit a queue or task that has no jobs, limit or registration yet (otherwise refused as a likely typo).") var new = false

    func run() async throws {
        if burst != nil && rate == nil { throw CommandError("--burst needs --rate") }
        let limit = Limit(concurrency: concurrency, rate: rate.map { Limit.Rate($0.rate.count, per: $0.rate.period, burst: burst) })
        try await global.withApp { app in
            if scope != .key { try await KnownNames.read(app).check(scope.rawValue, name, allowNew: new) }
            try await app.jobManager.setLimit(limit, for: scope.target(name))
            print("Limited \(scope.rawValue) \(name)")
        }
    }
}

/// `procrastinate limits remove SCOPE NAME`.
struct RemoveLimitCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "remove", abstract: "Remove the limit of a queue, a task, or a limit key no job names any more.")
    }
    @OptionGroup var global: GlobalOptions
    @Argument(help: "What the limit applies to (a key keeps its limit while jobs name it).") var scope: LimitScopeArgument
    @Argument(help: "The queue's, task's or key's name.") var name: String

    func run() async throws {
        try await global.withApp { app in
            guard try await app.jobManager.removeLimit(for: scope.target(name)) else {
                throw CommandError("\(scope.rawValue) \(name) has no limit (`limits` lists them)")
            }
            print("Removed the limit of \(scope.rawValue) \(name)")
        }
    }
}
