import Foundation

/// A database URL or environment that does not describe a connection.
public struct ConnectionSettingsError: ProcrastinateError, Hashable {
    /// The URL (password hidden) or the name of the source that was read.
    public var input: String
    /// What is wrong with it.
    public var reason: String

    init(input: String, reason: String) {
        self.input = Self.hidingPassword(in: input)
        self.reason = reason
    }

    public var description: String {
        "invalid database URL '\(input)': \(reason)"
    }

    /// `url` with whatever follows the user name in its user information replaced by `***`,
    /// even when the URL does not parse (a password holding `@`, `/` or `#` unescaped).
    static func hidingPassword(in url: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let at = url[schemeEnd.upperBound...].lastIndex(of: "@"),
              let colon = url[schemeEnd.upperBound..<at].firstIndex(of: ":")
        else { return url }
        return url.replacingCharacters(in: url.index(after: colon)..<at, with: "***")
    }
}
