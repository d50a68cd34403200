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
            var name: String?
            var queues: [String]?
            var task_names: [String]?
            var running: Int
            var last_heartbeat: Date
        }
        try await global.withApp { app in
            let workers = try await app.jobManager.listWorkers()
            let reports = workers.map {
                Report(
                    id: $0.id, name: $0.registration?.name, queues: $0.registration?.queues, task_names: $0.registration?.taskNames,
                    running: $0.running, last_heartbeat: $0.lastHeartbeat
                )
            }
            try output.emit(reports) { workers.isEmpty ? ["No workers registered"] : workers.map(Self.describe) }
        }
    }

    /// `#3 thumbnails (queues images, default): 2 running, last heartbeat …`; a Python worker
    /// registers no name or queues.
    static func describe(_ worker: WorkerInfo) -> String {
        let who = worker.registration.map { registration in
            " \(registration.name) (\(registration.queues.map { "queues " + $0.joined(separator: ", ") } ?? "every queue"))"
        } ?? " (Python, or a worker that registered no name)"
        return "#\(worker.id)\(who): \(worker.running) running, last heartbeat \(ProcrastinateShell.pythonDateString(worker.lastHeartbeat))"
    }
}
