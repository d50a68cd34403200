import Foundation
import Procrastinate

/// How values read on a page.
enum Format {
    /// `1234567` as `1,234,567`, whatever the server's locale.
    static func number(_ value: Int) -> String {
        value.formatted(.number.locale(Locale(identifier: "en_US")))
    }

    /// A count, `≈` before an estimate.
    static func count(_ count: JobCount?) -> HTML {
        switch count {
        case .exact(let value): "\(number(value))"
        case .estimate(let value): "<span class=\"estimate\" title=\"estimated from the planner's statistics\">≈ \(number(value))</span>"
        case nil: "<span class=\"muted\">0</span>"
        }
    }

    /// Seconds as `850 ms`, `12.3 s`, `4 min 05 s`, `3 h 12 min`, `2 d 4 h`.
    static func duration(_ seconds: Double) -> String {
        let seconds = max(seconds, 0)
        switch seconds {
        case ..<1: return "\(Int((seconds * 1000).rounded())) ms"
        case ..<60: return String(format: "%.1f s", seconds)
        case ..<3600: return String(format: "%d min %02d s", Int(seconds) / 60, Int(seconds) % 60)
        case ..<86400: return String(format: "%d h %02d min", Int(seconds) / 3600, Int(seconds) % 3600 / 60)
        default: return String(format: "%d d %d h", Int(seconds) / 86400, Int(seconds) % 86400 / 3600)
        }
    }

    /// A UTC timestamp, to the millisecond.
    static func date(_ date: Date?) -> String {
        guard let date else { return "—" }
        return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// A status as a coloured badge.
    static func status(_ status: JobStatus) -> HTML {
        "<span class=\"status status-\(status.rawValue)\">\(status.rawValue)</span>"
    }

    /// The arguments, indented when they are JSON.
    static func prettyJSON(_ text: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        else { return text }
        return String(decoding: data, as: UTF8.self)
    }
}
