import ArgumentParser
import Foundation
import Procrastinate

/// `procrastinate queues`: job counts per queue, and pausing queues.
struct QueuesCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "queues", abstract: "Job counts per queue and status; pause and resume queues.",
            discussion: examples("queues --json", "queues pause emails", "queues resume emails"),
            subcommands: [QueueCountsCommand.self, PauseQueueCommand.self, ResumeQueueCommand.self, PausedQueuesCommand.self],
            defaultSubcommand: QueueCountsCommand.self
        )
    }
}

/// `procrastinate queues [counts]`.
struct QueueCountsCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "counts", abstract: "Job counts per queue and status: what `queues` alone runs.")
    }
    @OptionGroup var options: CountOptions
    func run() async throws { try await options.run(.queue) }
}

/// `procrastinate queues pause NAME`.
struct PauseQueueCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "pause",
            abstract: "Stop every Swift worker from claiming a queue's jobs, until it is resumed (running jobs finish).",
            discussion: "Python workers do not know about paused queues."
        )
    }
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The queue.") var name: String
    @Flag(help: "Pause a queue that has no jobs, limit or registered task yet (otherwise refused as a likely typo).") var new = false

    func run() async throws {
        try await global.withApp { app in
            try await KnownNames.read(app).check("queue", name, allowNew: new)
            let paused = try await app.jobManager.pause(queue: name)
            print(paused ? "Paused queue \(name)" : "Queue \(name) was paused already")
        }
    }
}

/// `procrastinate queues resume NAME`.
struct ResumeQueueCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "resume", abstract: "Let the workers claim a paused queue's jobs again, at once.")
    }
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The queue.") var name: String

    func run() async throws {
        try await global.withApp { app in
            let resumed = try await app.jobManager.resume(queue: name)
            print(resumed ? "Resumed queue \(name)" : "Queue \(name) was not paused")
        }
    }
}

/// `procrastinate queues paused`.
struct PausedQueuesCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "paused", abstract: "The paused queues.")
    }
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        struct Report: Encodable {
            var name: String
            var paused_at: Date
        }
        try await global.withApp { app in
            let paused = try await app.jobManager.pausedQueues()
            try output.emit(paused.map { Report(name: $0.name, paused_at: $0.since) }) {
                paused.isEmpty ? ["No queue is paused"]
                    : paused.map { "\($0.name): paused since \(ProcrastinateShell.pythonDateString($0.since))" }
            }
        }
    }
}
