import Foundation

/// What every page's markup needs besides its data: where the dashboard is mounted, whether it
/// takes actions, and the token its forms carry.
struct PageContext: Sendable {
    /// The mount path, without a trailing slash (`""` at the root).
    var basePath: String
    var readOnly: Bool
    var csrfToken: String
    /// Seconds between refreshes when no notification comes.
    var refreshSeconds: Int
    /// The path and query of the request, for forms that come back to it.
    var currentPath: String

    /// The absolute path of `relative` (`"jobs/12"`).
    func path(_ relative: String) -> String {
        "\(basePath)/\(relative)"
    }

    /// `relative` with `parameters` as its query string.
    func path(_ relative: String, _ parameters: [(String, String)]) -> String {
        guard !parameters.isEmpty else { return path(relative) }
        return path(relative) + "?" + parameters.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
    }

    /// `value` percent-encoded for a query string.
    static func encode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A POST form to `action` with the token, its fields and a submit button; nothing on a
    /// read-only dashboard. `confirm` asks before sending.
    func actionForm(_ action: String, label: String, fields: [(String, String)] = [], confirm: String? = nil, style: String = "") -> HTML {
        guard !readOnly else { return .empty }
        let inputs = fields.map { name, value in HTML("<input type=\"hidden\" name=\"\(name)\" value=\"\(value)\">") }
        return """
            <form method="post" action="\(path(action))" class="action" data-action\(confirm.map { HTML(" data-confirm=\"\($0)\"") } ?? .empty)>\
            <input type="hidden" name="csrf" value="\(csrfToken)"><input type="hidden" name="return" value="\(currentPath)">\
            \(inputs)<button type="submit" class="\(style)">\(label)</button></form>
            """
    }
}
