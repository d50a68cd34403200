/// The queues page and the tasks page: counts by status for each, and (with the app known)
/// the tasks it registers that have no jobs yet.
struct CountsPage: Sendable {
    var grouping: StatusCounts.Grouping
    var counts: StatusCounts
    /// The app's task names, when the dashboard runs in an application.
    var registeredTasks: [String]

    func render(_ context: PageContext) -> HTML {
        let known = Set(counts.rows.map(\.name))
        let idle = registeredTasks.filter { !known.contains($0) }
        let idleList: HTML = grouping == .task && !idle.isEmpty
            ? "<h2>Registered tasks without jobs</h2><p>\(idle.map { HTML("<code>\($0)</code> ") })</p>"
            : .empty
        return """
            <h1>\(grouping == .queue ? "Queues" : "Tasks")</h1>
            \(CountsTable.render(counts, grouping: grouping, context))
            \(idleList)
            """
    }
}

/// The locks with running or waiting jobs.
struct LocksPage: Sendable {
    var search: String?
    var after: String?
    var locks: [LockLine]

    func render(_ context: PageContext) -> HTML {
        let rows = locks.map { line in
            let running: HTML = line.runningJobID.map { id in
                "<a href=\"\(context.path("jobs/\(id)"))\">#\(id)</a> \(line.runningTask)"
            } ?? "<span class=\"muted\">—</span>"
            let next: HTML = line.nextJobID.map { "<a href=\"\(context.path("jobs/\($0)"))\">#\($0)</a>" } ?? "<span class=\"muted\">—</span>"
            let waiting = line.waiting > LockLine.waitingCap ? "\(Format.number(LockLine.waitingCap))+" : Format.number(line.waiting)
            return HTML(
                """
                <tr><td><a href="\(context.path("jobs", [("lock", line.lock)]))">\(line.lock)</a></td><td>\(running)</td>\
                <td class="number">\(waiting)</td><td>\(next)</td></tr>
                """
            )
        }
        var searchParameters: [(String, String)] = []
        if let search { searchParameters.append(("search", search)) }
        let more: HTML = locks.count == LockLine.pageSize
            ? "<div class=\"pager\"><a rel=\"next\" href=\"\(context.path("locks", searchParameters + [("after", locks.last!.lock)]))\">More →</a></div>"
            : .empty
        return """
            <h1>Locks</h1>
            <form class="filters" method="get" action="\(context.path("locks"))"><label>Lock contains<input name="search" value="\(search)"></label>\
            <button type="submit">Search</button></form>
            \(locks.isEmpty ? HTML("<p class=\"muted\">No lock has a running or waiting job\(after == nil ? "" : " after this point").</p>") : HTML("<table><thead><tr><th>Lock</th><th>Running</th><th class=\"number\">Waiting</th><th>Next</th></tr></thead><tbody>\(rows)</tbody></table>"))
            \(more)
            """
    }
}
