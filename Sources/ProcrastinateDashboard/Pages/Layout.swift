/// The page around each page's content: the navigation, the live-update switch, the
/// message of the last action; `#content` alone is what a refresh replaces.
enum Layout {
    /// The sections of the navigation: path and label.
    static let sections: [(path: String, label: String)] = [
        ("", "Overview"), ("jobs", "Jobs"), ("queues", "Queues"), ("tasks", "Tasks"), ("locks", "Locks"), ("limits", "Limits"),
        ("workers", "Workers"), ("periodic", "Periodic"), ("stalled", "Stalled jobs"),
    ]

    static func page(title: String, section: String, context: PageContext, flash: String?, content: HTML) -> HTML {
        let links = sections.map { item in
            HTML("<a href=\"\(context.path(item.path))\"\(item.path == section ? HTML(" class=\"current\" aria-current=\"page\"") : .empty)>\(item.label)</a>")
        }
        return """
            <!doctype html>
            <html lang="en" data-base="\(context.basePath)" data-refresh="\(context.refreshSeconds)">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · Procrastinate</title>
            <link rel="stylesheet" href="\(context.path("assets/dashboard.css"))">
            <script src="\(context.path("assets/dashboard.js"))" defer></script></head>
            <body>
            <header><a class="brand" href="\(context.path(""))">Procrastinate</a><nav>\(links)</nav>\
            \(context.readOnly ? HTML("<span class=\"muted\">read-only</span>") : .empty)\
            <button type="button" id="live" aria-pressed="false">Pause live updates</button></header>
            <div id="flash" class="\(flash == nil ? "" : "flash ok")" role="status">\(flash)</div>
            <main id="content">\(content)</main>
            </body></html>
            """
    }

    /// A page's content when its reads failed: what failed, never a stack of internals.
    static func failure(_ message: String) -> HTML {
        "<h1>Something went wrong</h1><div class=\"error-box\">\(message)</div>"
    }
}
