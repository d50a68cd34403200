/// A fragment of HTML whose interpolated strings are escaped: text from the database (task
/// names, arguments, lock names) can never become markup.
///
/// ```swift
/// let cell: HTML = "<td>\(job.taskName)</td>"       // escaped
/// let row: HTML = "<tr>\(cell)</tr>"                 // HTML is inserted as it is
/// ```
struct HTML: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The markup.
    private(set) var markup: String

    init(stringLiteral value: String) {
        markup = value
    }

    init(stringInterpolation: Interpolation) {
        markup = stringInterpolation.markup
    }

    /// Markup taken as it is: only for constants of this module.
    init(trusted markup: String) {
        self.markup = markup
    }

    /// Nothing.
    static let empty = HTML(trusted: "")

    var description: String { markup }

    /// `text` with `&`, `<`, `>`, `"` and `'` escaped, for text and attribute values alike.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    struct Interpolation: StringInterpolationProtocol {
        var markup = ""

        init(literalCapacity: Int, interpolationCount: Int) {
            markup.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        mutating func appendLiteral(_ literal: String) {
            markup += literal
        }

        /// Text, escaped.
        mutating func appendInterpolation(_ text: String) {
            markup += HTML.escape(text)
        }

        /// Text, escaped; nothing for nil.
        mutating func appendInterpolation(_ text: String?) {
            if let text { markup += HTML.escape(text) }
        }

        /// A number.
        mutating func appendInterpolation<Number: BinaryInteger>(_ number: Number) {
            markup += String(number)
        }

        /// Markup, as it is.
        mutating func appendInterpolation(_ html: HTML) {
            markup += html.markup
        }

        /// Fragments, one after the other.
        mutating func appendInterpolation(_ fragments: [HTML]) {
            for fragment in fragments { markup += fragment.markup }
        }
    }
}

extension Array where Element == HTML {
    /// The fragments one after the other.
    var joined: HTML { HTML(trusted: map(\.markup).joined()) }
}
