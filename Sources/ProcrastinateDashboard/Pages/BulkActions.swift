/// The actions on jobs (on one, or on every job matching the job list's filters), and the
/// page that confirms a bulk one.
enum BulkActions {
    enum Kind: String, Sendable, CaseIterable {
        case retry, cancel, abort, delete

        var label: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }

        var pastTense: String {
            switch self {
            case .retry: "Retried"
            case .cancel: "Cancelled"
            case .abort: "Asked to abort"
            case .delete: "Deleted"
            }
        }

        /// What it did to job `id`, in words: `done` when the job's status allowed it.
        func outcome(ofJob id: Int64, done: Bool) -> String {
            switch (self, done) {
            case (.retry, true): "Job #\(id) is back in the queue."
            case (.retry, false): "Job #\(id) was not retried: it waits already, or is gone."
            case (.cancel, true): "Job #\(id) was cancelled."
            case (.cancel, false): "Job #\(id) was not waiting: nothing was cancelled."
            case (.abort, true): "Job #\(id): abort requested."
            case (.abort, false): "Job #\(id) was neither waiting nor running: nothing to abort."
            case (.delete, true): "Job #\(id) was deleted."
            case (.delete, false): "Job #\(id) was not deleted: it runs, or is gone."
            }
        }
    }

    static let kinds = Kind.allCases

    /// How many jobs match, and a form that does it (or only a way back when none match).
    static func confirmation(_ kind: Kind, filter: JobSearchFilter, matching: Int, limit: Int, _ context: PageContext) -> HTML {
        let criteria = filter.parameters.map { name, value in HTML("<li><strong>\(name)</strong>: <code>\(value)</code></li>") }
        let back = context.path("jobs", filter.parameters)
        guard matching > 0 else {
            return "<h1>\(kind.label) jobs</h1><p>No job matches these filters.</p><p><a href=\"\(back)\">Back to the jobs</a></p>"
        }
        let count = matching > limit ? "More than \(Format.number(limit)) jobs match; this acts on the newest \(Format.number(limit))" : "\(Format.number(matching)) jobs match"
        let fields = filter.parameters.map { name, value in HTML("<input type=\"hidden\" name=\"\(name)\" value=\"\(value)\">") }
        return """
            <h1>\(kind.label) jobs</h1>
            <ul>\(criteria)</ul>
            <p id="bulk-count">\(count). Jobs whose status does not allow it are left as they are.</p>
            <form method="post" action="\(context.path("jobs/bulk"))" class="action" data-action data-navigate>\
            <input type="hidden" name="csrf" value="\(context.csrfToken)"><input type="hidden" name="action" value="\(kind.rawValue)">\
            <input type="hidden" name="confirm" value="yes">\(fields)\
            <button type="submit" class="\(kind == .delete ? "danger" : "")">\(kind.label) \(Format.number(min(matching, limit))) jobs</button></form>
            <a href="\(back)">Cancel</a>
            """
    }
}
