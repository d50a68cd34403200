import Procrastinate

/// The job list: filters, a page of jobs newest first, and actions on every job matching.
struct JobListPage: Sendable {
    var filter: JobSearchFilter
    var listing: JobListing
    /// Where this page started (nil: the newest job).
    var before: Int64?

    func render(_ context: PageContext) -> HTML {
        let statusOptions = JobStatus.allCases.filter { $0 != .aborting }.map { status in
            HTML("<option value=\"\(status.rawValue)\"\(filter.status == status ? HTML(" selected") : .empty)>\(status.rawValue)</option>")
        }
        func field(_ name: String, _ label: String, _ value: String?, size: Int = 12) -> HTML {
            "<label>\(label)<input name=\"\(name)\" value=\"\(value)\" size=\"\(size)\"></label>"
        }
        let form: HTML = """
            <form class="filters" method="get" action="\(context.path("jobs"))">\
            \(field("id", "Id", filter.id.map(String.init), size: 8))\
            <label>Status<select name="status"><option value="">any</option>\(statusOptions)</select></label>\
            \(field("queue", "Queue", filter.queue))\(field("task", "Task", filter.task))\(field("lock", "Lock", filter.lock))\
            \(field("queueing_lock", "Queueing lock", filter.queueingLock))\(field("worker", "Worker", filter.worker.map(String.init), size: 6))\
            \(field("args", "Arguments contain (text or JSON)", filter.arguments, size: 24))\
            <button type="submit">Filter</button> <a href="\(context.path("jobs"))">clear</a></form>
            """
        let rows = listing.jobs.map { job in
            HTML(
                """
                <tr><td><a href="\(context.path("jobs/\(job.id)"))">#\(job.id)</a></td><td>\(Format.status(job.status))</td>\
                <td>\(job.taskName)</td><td>\(job.queue)</td><td>\(job.lock)</td><td class="number">\(job.priority)</td>\
                <td class="number">\(job.attempts)</td><td>\(Format.date(job.scheduledAt))</td>\
                <td class="args">\(String(job.arguments.prefix(120)))</td><td class="actions">\(JobActions.buttons(for: job, context))</td></tr>
                """
            )
        }
        var pager: [HTML] = []
        if before != nil { pager.append("<a href=\"\(context.path("jobs", filter.parameters))\">Newest</a>") }
        if let older = listing.olderThan {
            pager.append("<a rel=\"next\" href=\"\(context.path("jobs", filter.parameters + [("before", String(older))]))\">Older →</a>")
        }
        if let searched = listing.searchedDownTo {
            pager.append("<span class=\"muted\">Looked through the jobs down to #\(searched) for this page.</span>")
        }
        let table: HTML = listing.jobs.isEmpty
            ? "<p class=\"muted\">No job matches\(listing.olderThan == nil ? "" : " so far").</p>"
            : """
                <table id="jobs"><thead><tr><th>Id</th><th>Status</th><th>Task</th><th>Queue</th><th>Lock</th><th class="number">Priority</th>\
                <th class="number">Attempts</th><th>Scheduled</th><th>Arguments</th><th></th></tr></thead><tbody>\(rows)</tbody></table>
                """
        let bulk: HTML = filter.isEmpty || context.readOnly
            ? .empty
            : """
                <h2>Every job matching these filters</h2><p>\
                \(BulkActions.kinds.map { kind in bulkForm(kind, context) })</p>
                """
        return """
            <h1>Jobs</h1>
            \(form)
            \(table)
            <div class="pager">\(pager)</div>
            \(bulk)
            """
    }

    /// A form that asks for the count of matching jobs first (a page of its own), then acts.
    private func bulkForm(_ kind: BulkActions.Kind, _ context: PageContext) -> HTML {
        let fields = filter.parameters.map { name, value in HTML("<input type=\"hidden\" name=\"\(name)\" value=\"\(value)\">") }
        return """
            <form method="post" action="\(context.path("jobs/bulk"))" class="action" data-action data-navigate>\
            <input type="hidden" name="csrf" value="\(context.csrfToken)"><input type="hidden" name="action" value="\(kind.rawValue)">\
            \(fields)<button type="submit" class="\(kind == .delete ? "danger" : "")">\(kind.label) all…</button></form>
            """
    }
}

/// The actions a job's state allows, as buttons.
enum JobActions {
    static func buttons(for job: Job, _ context: PageContext) -> HTML {
        var buttons: [HTML] = []
        switch job.status {
        case .todo:
            buttons.append(context.actionForm("jobs/\(job.id)/cancel", label: "Cancel"))
        case .doing:
            if !job.abortRequested { buttons.append(context.actionForm("jobs/\(job.id)/abort", label: "Abort")) }
            buttons.append(context.actionForm("jobs/\(job.id)/retry", label: "Retry", confirm: "Job #\(job.id) is running. Put it back in the queue anyway?"))
        case .failed, .cancelled, .aborted, .succeeded, .aborting:
            buttons.append(context.actionForm("jobs/\(job.id)/retry", label: "Retry"))
        }
        if job.status != .doing {
            buttons.append(context.actionForm("jobs/\(job.id)/delete", label: "Delete", confirm: "Delete job #\(job.id) and its events?", style: "danger"))
        }
        return buttons.joined
    }
}
