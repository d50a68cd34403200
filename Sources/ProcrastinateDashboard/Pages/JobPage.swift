import Foundation
import Procrastinate

/// One job: every field, its arguments, its history and its lock's line.
struct JobPage: Sendable {
    var details: JobDetails

    func render(_ context: PageContext) -> HTML {
        let job = details.job
        func field(_ name: String, _ value: HTML) -> HTML { "<dt>\(name)</dt><dd>\(value)</dd>" }
        func link(_ parameter: String, _ value: String?) -> HTML {
            guard let value else { return "<span class=\"muted\">—</span>" }
            return "<a href=\"\(context.path("jobs", [(parameter, value)]))\">\(value)</a>"
        }
        let worker: HTML = details.worker.map { worker in
            "<a href=\"\(context.path("jobs", [("worker", String(worker.id))]))\">#\(worker.id)</a> <span class=\"muted\">(last heartbeat \(Format.date(worker.lastHeartbeat)))</span>"
        } ?? (job.workerID.map { HTML("#\($0)") } ?? "<span class=\"muted\">—</span>")
        let fields: HTML = """
            <dl class="fields">\
            \(field("Status", Format.status(job.status)))\(field("Task", link("task", job.taskName)))\(field("Queue", link("queue", job.queue)))\
            \(field("Priority", "\(job.priority)"))\(field("Lock", link("lock", job.lock)))\(field("Queueing lock", link("queueing_lock", job.queueingLock)))\
            \(field("Scheduled at", "\(Format.date(job.scheduledAt))"))\(field("Attempts", "\(job.attempts)"))\
            \(field("Abort requested", "\(job.abortRequested ? "yes" : "no")"))\(field("Worker", worker))</dl>
            """
        let timeline = details.timeline.map { entry in
            let gap: HTML = entry.gap.map { HTML("<span class=\"gap\">+\(Format.duration($0))</span>") } ?? .empty
            let scheduled: HTML = entry.scheduledFor.map { HTML(" <span class=\"scheduled\">to run at \(Format.date($0))</span>") } ?? .empty
            let at: HTML = entry.at == nil ? .empty : " <span class=\"muted\">\(Format.date(entry.at))</span>"
            return HTML("<li><strong>\(entry.type)</strong>\(at)\(scheduled)\(gap)</li>")
        }
        let errors = details.errors.map { error in
            HTML(
                """
                <li><strong>attempt \(error.attempt)</strong> <span class="muted">\(Format.date(error.at))</span> \
                <code>\(error.cause.type)</code><pre>\(error.cause.message)</pre></li>
                """
            )
        }
        return """
            <h1>Job #\(job.id) <small class="muted">\(job.taskName)</small></h1>
            <p>\(JobActions.buttons(for: job, context))</p>
            \(fields)
            <h2>Arguments</h2>
            <pre id="arguments">\(Format.prettyJSON(job.arguments))</pre>
            <h2>Events</h2>
            \(details.events.isEmpty ? HTML("<p class=\"muted\">No events.</p>") : HTML("<ol class=\"timeline\">\(timeline)</ol>"))
            \(details.errors.isEmpty ? .empty : HTML("<h2>Errors</h2><ol class=\"errors\" id=\"errors\">\(errors)</ol>"))
            \(lockLine(context))
            """
    }

    private func lockLine(_ context: PageContext) -> HTML {
        guard let lock = details.job.lock else { return .empty }
        let blocker: HTML = details.blockedBy.map { blocker in
            "<p>Waits for <a href=\"\(context.path("jobs/\(blocker.id)"))\">#\(blocker.id)</a> (\(blocker.taskName), \(blocker.status.rawValue)).</p>"
        } ?? .empty
        let rows = details.lockLine.map { job in
            HTML(
                """
                <tr\(job.id == details.job.id ? HTML(" class=\"current\"") : .empty)><td><a href="\(context.path("jobs/\(job.id)"))">#\(job.id)</a>\
                \(job.id == details.job.id ? HTML(" (this job)") : .empty)</td><td>\(Format.status(job.status))</td><td>\(job.taskName)</td>\
                <td class="number">\(job.priority)</td></tr>
                """
            )
        }
        return """
            <h2>Lock <code>\(lock)</code></h2>
            \(blocker)
            \(details.lockLine.isEmpty ? HTML("<p class=\"muted\">No job of this lock runs or waits.</p>") : HTML("<table><thead><tr><th>Job</th><th>Status</th><th>Task</th><th class=\"number\">Priority</th></tr></thead><tbody>\(rows)</tbody></table><p class=\"muted\">The running job, then the waiting ones in the order they run (at most \(JobDetails.lockLineLimit)).</p>"))
            """
    }
}
