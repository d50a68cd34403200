import Foundation
import Procrastinate

/// The concurrency and rate limits with their use, and the paused queues: resume them, or
/// pause another.
struct LimitsPage: Sendable {
    /// Nil on a database without our latest migration.
    var limits: [LimitUsage]?
    var paused: [PausedQueue]

    func render(_ context: PageContext) -> HTML {
        guard let limits else {
            return """
                <h1>Limits</h1>
                <p>This database has no limits: they need our migrations (<code>procrastinate schema --migrate</code>).</p>
                """
        }
        let rows = limits.map { usage in
            let concurrency: HTML = usage.limit.concurrency.map { HTML("\(Format.number(usage.running)) of \(Format.number($0))") }
                ?? HTML("\(Format.number(usage.running)) <span class=\"muted\">(no limit)</span>")
            let rate: HTML = usage.limit.rate.map { rate in
                HTML("\(Format.number(usage.recentStarts)) of \(Format.number(rate.count)) per \(Format.duration(rate.period.seconds)), \(rate.burst) at once")
            } ?? HTML("<span class=\"muted\">—</span>")
            let link: HTML = switch usage.target {
            case .queue(let name): "<a href=\"\(context.path("jobs", [("queue", name)]))\">\(name)</a>"
            case .task(let name): "<a href=\"\(context.path("jobs", [("task", name)]))\">\(name)</a>"
            case .key(let name): "\(name)"
            }
            return HTML(
                """
                <tr><td>\(usage.target.scope)</td><td>\(link)</td><td class="number">\(concurrency)</td><td>\(rate)</td>\
                <td class="number">\(Format.number(usage.waiting))</td>\
                <td>\(usage.isFull ? HTML("<span class=\"status status-failed\">full</span>") : .empty)</td></tr>
                """
            )
        }
        let pausedRows = paused.map { queue in
            HTML(
                """
                <tr><td><a href="\(context.path("jobs", [("queue", queue.name)]))">\(queue.name)</a></td><td>\(Format.date(queue.since))</td>\
                <td>\(context.actionForm("queues/resume", label: "Resume", fields: [("queue", queue.name)]))</td></tr>
                """
            )
        }
        let pauseForm: HTML = context.readOnly ? .empty : """
            <form class="filters" method="post" action="\(context.path("queues/pause"))" data-action>\
            <input type="hidden" name="csrf" value="\(context.csrfToken)"><input type="hidden" name="return" value="\(context.currentPath)">\
            <label>Queue<input name="queue" required></label><button type="submit">Pause</button></form>
            """
        return """
            <h1>Limits</h1>
            \(limits.isEmpty ? HTML("<p class=\"muted\">No limits: declare them on tasks and queues, or with <code>procrastinate limits set</code>.</p>") : HTML("<table><thead><tr><th>Scope</th><th>Name</th><th class=\"number\">Running</th><th>Starts in the period</th><th class=\"number\">Waiting</th><th></th></tr></thead><tbody>\(rows)</tbody></table>"))
            <h2>Paused queues</h2>
            <p class="muted">No Swift worker claims a paused queue's jobs; running jobs finish. Python workers ignore pauses.</p>
            \(paused.isEmpty ? HTML("<p class=\"muted\">No queue is paused.</p>") : HTML("<table><thead><tr><th>Queue</th><th>Paused at</th><th></th></tr></thead><tbody>\(pausedRows)</tbody></table>"))
            \(pauseForm)
            """
    }
}
