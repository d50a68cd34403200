import Procrastinate

/// The registered workers, stalled ones marked.
struct WorkersPage: Sendable {
    var workers: [WorkerRow]
    var stalledAfter: Double

    func render(_ context: PageContext) -> HTML {
        let rows = workers.map { worker in
            let stalled = worker.silentFor > stalledAfter
            return HTML(
                """
                <tr\(stalled ? HTML(" class=\"stalled-row\"") : .empty)><td>#\(worker.id)</td><td>\(worker.name ?? "—")</td>\
                <td>\(worker.queues?.joined(separator: ", ") ?? "all")</td><td>\(Format.date(worker.lastHeartbeat))\
                \(stalled ? HTML(" <span class=\"stalled\">stalled (silent for \(Format.duration(worker.silentFor)))</span>") : .empty)</td>\
                <td class="number"><a href="\(context.path("jobs", [("worker", String(worker.id)), ("status", "doing")]))">\(worker.running)</a></td></tr>
                """
            )
        }
        return """
            <h1>Workers</h1>
            \(workers.isEmpty ? HTML("<p class=\"muted\">No worker is registered.</p>") : HTML("<table><thead><tr><th>Id</th><th>Name</th><th>Queues</th><th>Last heartbeat</th><th class=\"number\">Running</th></tr></thead><tbody>\(rows)</tbody></table>"))
            <p class="muted">A worker silent for more than \(Format.duration(stalledAfter)) is marked stalled; its running jobs show on the stalled jobs page.</p>
            """
    }
}

/// Running jobs whose worker is gone or silent: what stalled-job recovery would take back.
struct StalledPage: Sendable {
    var jobs: [Job]
    var stalledAfter: Double

    func render(_ context: PageContext) -> HTML {
        let rows = jobs.map { job in
            HTML(
                """
                <tr><td><a href="\(context.path("jobs/\(job.id)"))">#\(job.id)</a></td><td>\(job.taskName)</td><td>\(job.queue)</td>\
                <td>\(job.workerID.map { "#\($0)" } ?? "gone")</td><td>\(JobActions.buttons(for: job, context))</td></tr>
                """
            )
        }
        return """
            <h1>Stalled jobs</h1>
            <p class="muted">Running jobs whose worker is gone or has not sent a heartbeat for \(Format.duration(stalledAfter)): the rule of the workers' stalled-job recovery.</p>
            \(jobs.isEmpty ? HTML("<p class=\"muted\">No stalled job.</p>") : HTML("<table><thead><tr><th>Job</th><th>Task</th><th>Queue</th><th>Worker</th><th></th></tr></thead><tbody>\(rows)</tbody></table>"))
            """
    }
}
