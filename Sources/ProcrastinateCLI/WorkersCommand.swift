import ArgumentParser
import Foundation
import Procrastinate

/// `procrastinate workers`.
struct WorkersCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "workers", abstract: "The registered workers and their last heartbeats.", discussion: examples("workers --json")
        )
    }
    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        struct Report: Encodable {
            var id: Int64
            var last_heartbeat: Date
        }
        try await global.withApp { app in
            let workers = try await app.jobManager.listWorkers()
            try output.emit(workers.map { Report(id: $0.id, last_heartbeat: $0.lastHeartbeat) }) {
                workers.isEmpty ? ["No workers registered"]
                    : workers.map { "#\($0.id) last heartbeat \(ProcrastinateShell.pythonDateString($0.lastHeartbeat))" }
            }
        }
    }
}
