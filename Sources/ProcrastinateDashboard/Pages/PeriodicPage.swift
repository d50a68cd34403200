import Cron
import Foundation
import Procrastinate

/// The periodic schedules: the last tick each deferred and, with the app known, every
/// schedule with its expression in words and its next fire times.
struct PeriodicPage: Sendable {
    var ticks: [LastTick]
    /// The app's schedules; nil when the dashboard does not know the app.
    var schedules: [PeriodicTask]?
    var now: Date

    static let nextFireTimes = 3

    func render(_ context: PageContext) -> HTML {
        let lastTicks = Dictionary(ticks.map { ("\($0.taskName)|\($0.periodicID)", $0) }) { first, _ in first }
        func last(_ tick: LastTick?) -> HTML {
            guard let tick, let date = tick.tick else { return "<span class=\"muted\">never</span>" }
            let job: HTML = tick.jobID.map { " (<a href=\"\(context.path("jobs/\($0)"))\">#\($0)</a>)" } ?? .empty
            return "\(Format.date(date))\(job)"
        }
        guard let schedules else {
            let rows = ticks.map { tick in
                HTML("<tr><td>\(tick.taskName)</td><td>\(tick.periodicID)</td><td>\(last(tick))</td></tr>")
            }
            return """
                <h1>Periodic tasks</h1>
                <p class="muted">The last tick each schedule deferred. Started from an application's own executable \
                (<code>my-service dashboard</code>), this page also shows every schedule and its next fire times.</p>
                \(ticks.isEmpty ? HTML("<p class=\"muted\">No periodic job was deferred yet.</p>") : HTML("<table><thead><tr><th>Task</th><th>Periodic id</th><th>Last tick</th></tr></thead><tbody>\(rows)</tbody></table>"))
                """
        }
        let rows = schedules.map { task in
            let next = task.schedule.dates(after: now).prefix(Self.nextFireTimes).map { HTML("<div>\(task.schedule.localTimeString($0))</div>") }
            let button = context.actionForm(
                "periodic/defer", label: "Defer now", fields: [("task", task.taskName), ("periodic_id", task.periodicID)],
                confirm: "Defer a job of \(task.taskName) now, outside its schedule?"
            )
            return HTML(
                """
                <tr><td><a href="\(context.path("jobs", [("task", task.taskName)]))">\(task.taskName)</a></td><td>\(task.periodicID)</td>\
                <td><code>\(task.schedule.expression.text)</code><div class="muted">\(task.schedule.expression.englishDescription)</div></td>\
                <td>\(task.schedule.timeZoneName)</td><td>\(next)</td><td>\(last(lastTicks["\(task.taskName)|\(task.periodicID)"]))</td><td>\(button)</td></tr>
                """
            )
        }
        return """
            <h1>Periodic tasks</h1>
            \(schedules.isEmpty ? HTML("<p class=\"muted\">The app declares no periodic task.</p>") : HTML("<table><thead><tr><th>Task</th><th>Periodic id</th><th>Schedule</th><th>Time zone</th><th>Next fire times</th><th>Last tick</th><th></th></tr></thead><tbody>\(rows)</tbody></table>"))
            """
    }
}
