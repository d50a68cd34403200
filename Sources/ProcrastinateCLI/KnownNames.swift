import ArgumentParser
import Procrastinate

/// The queues and tasks an operator's command may name without `--new`: those the
/// application registers, those with jobs, and those with a limit or a pause. A name outside
/// them is most likely a typo, which would otherwise be accepted silently.
struct KnownNames {
    var queues: Set<String>
    var tasks: Set<String>

    /// The names `app` and its database know.
    static func read(_ app: App) async throws -> KnownNames {
        let manager = app.jobManager
        let limits = try await manager.limits().map(\.target)
        let registered = app.taskNames.compactMap { app.task(named: $0) }
        var queues = Set(try await manager.listQueues().map(\.name))
        queues.formUnion(registered.map { $0.options.jobs.queue ?? TaskOptions.defaultQueue })
        queues.formUnion(try await manager.pausedQueues().map(\.name))
        queues.formUnion(limits.compactMap { if case .queue(let name) = $0 { name } else { nil } })
        var tasks = Set(try await manager.listTasks().map(\.name))
        tasks.formUnion(registered.flatMap { [$0.name] + $0.aliases })
        tasks.formUnion(limits.compactMap { if case .task(let name) = $0 { name } else { nil } })
        return KnownNames(queues: queues, tasks: tasks)
    }

    /// Throws unless `name` is a known queue (`scope` "queue") or task, or `allowNew`.
    func check(_ scope: String, _ name: String, allowNew: Bool) throws {
        let known = scope == "queue" ? queues : tasks
        guard !allowNew, !known.contains(name) else { return }
        let listed = known.isEmpty ? "none" : known.sorted().prefix(20).joined(separator: ", ")
        throw CommandError(
            "no \(scope) '\(name)' is registered, has jobs or has a limit (known: \(listed)); check the name, "
                + "or pass --new for a \(scope) that has none yet"
        )
    }
}
