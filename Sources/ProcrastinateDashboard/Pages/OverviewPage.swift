import Procrastinate

/// The queue at a glance.
struct OverviewPage: Sendable {
    var counts: StatusCounts
    var activity: Activity
    var oldest: [OldestWaiting]
    var workers: [WorkerRow]
    /// A worker silent for longer is stalled.
    var stalledAfter: Double

    func render(_ context: PageContext) -> HTML {
        let waiting = counts.rows.reduce(0) { $0 + ($1.counts[.todo]?.value ?? 0) }
        let running = counts.rows.reduce(0) { $0 + ($1.counts[.doing]?.value ?? 0) }
        let alive = workers.filter { $0.silentFor <= stalledAfter }.count
        let finished = activity.minutes.reduce(0) { $0 + $1.succeeded + $1.failed }
        let failed = activity.minutes.reduce(0) { $0 + $1.failed }
        let wait = activity.wait.map { "\(Format.duration($0.p50)) / \(Format.duration($0.p99))" } ?? "—"
        let cards: HTML = """
            <div class="cards">\
            <div class="card"><div class="value" id="waiting">\(counts.waitingPastCap ? "≈ " : "")\(Format.number(waiting))</div><div class="label">waiting</div></div>\
            <div class="card"><div class="value" id="running">\(Format.number(running))</div><div class="label">running</div></div>\
            <div class="card"><div class="value">\(Format.number(finished))</div><div class="label">finished in the last hour (\(Format.number(failed)) failed)</div></div>\
            <div class="card"><div class="value">\(wait)</div><div class="label">queue wait p50 / p99 (\(Format.number(activity.waitSampleSize)) starts)</div></div>\
            <div class="card"><div class="value">\(alive)</div><div class="label">workers alive (\(workers.count - alive) stalled)</div></div>\
            </div>
            """
        let oldestRows = oldest.map { row in
            HTML(
                """
                <tr><td><a href="\(context.path("jobs", [("queue", row.queue), ("status", "todo")]))">\(row.queue)</a></td>\
                <td><a href="\(context.path("jobs/\(row.jobID)"))">#\(row.jobID)</a></td><td class="number">\(Format.duration(row.age))</td></tr>
                """
            )
        }
        let waits = activity.wait.map { wait in
            HTML("<p class=\"muted\">Queue wait (deferred or scheduled → started): p50 \(Format.duration(wait.p50)), p90 \(Format.duration(wait.p90)), p99 \(Format.duration(wait.p99)).</p>")
        } ?? HTML("<p class=\"muted\">No job started in the last hour.</p>")
        return """
            <h1>Overview</h1>
            \(cards)
            <h2>Finished per minute, last hour</h2>
            \(Chart.finishedPerMinute(activity.minutes))
            \(waits)
            <h2>Jobs by queue and status</h2>
            \(CountsTable.render(counts, grouping: .queue, context))
            <h2>Oldest waiting job per queue</h2>
            \(oldest.isEmpty ? HTML("<p class=\"muted\">No job is waiting.</p>") : HTML("<table><thead><tr><th>Queue</th><th>Job</th><th class=\"number\">Waiting for</th></tr></thead><tbody>\(oldestRows)</tbody></table>"))
            """
    }
}

/// Counts by status, one row per queue or task, each cell a link to those jobs.
enum CountsTable {
    static let statuses: [JobStatus] = [.todo, .doing, .succeeded, .failed, .cancelled, .aborted]

    static func render(_ counts: StatusCounts, grouping: StatusCounts.Grouping, _ context: PageContext) -> HTML {
        guard !counts.rows.isEmpty else { return "<p class=\"muted\">No jobs.</p>" }
        let filterName = grouping == .queue ? "queue" : "task"
        let header = statuses.map { HTML("<th class=\"number\">\($0.rawValue)</th>") }
        let rows = counts.rows.map { row in
            let cells = statuses.map { status in
                HTML(
                    "<td class=\"number\"><a href=\"\(context.path("jobs", [(filterName, row.name), ("status", status.rawValue)]))\">\(Format.count(row.counts[status]))</a></td>"
                )
            }
            return HTML("<tr><td><a href=\"\(context.path("jobs", [(filterName, row.name)]))\">\(row.name)</a></td>\(cells)</tr>")
        }
        let note: HTML = counts.hasEstimates
            ? "<p class=\"muted\">≈: estimated from the planner's statistics (an exact count would scan the table)\(counts.waitingPastCap ? HTML("; more than \(Format.number(StatusCounts.liveCountCap)) jobs wait, so waiting counts are estimates too") : .empty).</p>"
            : .empty
        return """
            <table><thead><tr><th>\(grouping == .queue ? "Queue" : "Task")</th>\(header)</tr></thead><tbody>\(rows)</tbody></table>\(note)
            """
    }
}
