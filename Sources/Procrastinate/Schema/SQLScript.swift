/// Splits a PostgreSQL script into its statements, so that it can be sent over the extended
/// query protocol, which takes one statement at a time.
///
/// Semicolons inside comments (`--`, nested `/* */`), quoted strings (`'…'`, `E'…'`), quoted
/// identifiers (`"…"`) and dollar-quoted bodies (`$tag$…$tag$`) do not end a statement.
enum SQLScript {
    /// The statements of `script`, without their terminating semicolons; empty statements and
    /// those made only of comments are dropped.
    static func statements(in script: String) -> [String] {
        let text = Array(script.utf8)
        var statements: [String] = []
        var start = 0
        var index = 0
        var hasCode = false

        func finishStatement(at end: Int) {
            if hasCode, let statement = String(validating: text[start..<end], as: UTF8.self) {
                statements.append(statement.trimmingWhitespace())
            }
            start = end + 1
            hasCode = false
        }

        while index < text.count {
            let byte = text[index]
            switch byte {
            case UInt8(ascii: "-") where next(text, index) == UInt8(ascii: "-"):
                index = skip(text, from: index, until: [UInt8(ascii: "\n")])
                continue
            case UInt8(ascii: "/") where next(text, index) == UInt8(ascii: "*"):
                index = skipBlockComment(text, from: index)
                continue
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                hasCode = true
                index = skipQuoted(text, from: index, quote: byte)
                continue
            case UInt8(ascii: "$"):
                hasCode = true
                if let tag = dollarTag(text, at: index) {
                    index = skip(text, from: index + tag.count - 1, until: tag)
                    continue
                }
            case UInt8(ascii: ";"):
                finishStatement(at: index)
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                break
            default:
                hasCode = true
            }
            index += 1
        }
        finishStatement(at: text.count)
        return statements
    }

    private static func next(_ text: [UInt8], _ index: Int) -> UInt8? {
        index + 1 < text.count ? text[index + 1] : nil
    }

    /// The index just past the first occurrence of `terminator` at or after `from + 1`.
    private static func skip(_ text: [UInt8], from: Int, until terminator: [UInt8]) -> Int {
        var index = from + 1
        while index < text.count {
            if text[index...].starts(with: terminator) {
                return index + terminator.count
            }
            index += 1
        }
        return text.count
    }

    private static func skipBlockComment(_ text: [UInt8], from: Int) -> Int {
        var depth = 0
        var index = from
        while index < text.count {
            if text[index] == UInt8(ascii: "/"), next(text, index) == UInt8(ascii: "*") {
                depth += 1
                index += 2
            } else if text[index] == UInt8(ascii: "*"), next(text, index) == UInt8(ascii: "/") {
                depth -= 1
                index += 2
                if depth == 0 { return index }
            } else {
                index += 1
            }
        }
        return text.count
    }

    /// Skips a quoted string or identifier; a doubled quote stands for itself, and a backslash
    /// escapes the next character in an `E'…'` string.
    private static func skipQuoted(_ text: [UInt8], from: Int, quote: UInt8) -> Int {
        let backslashEscapes = quote == UInt8(ascii: "'") && from > 0
            && (text[from - 1] == UInt8(ascii: "E") || text[from - 1] == UInt8(ascii: "e"))
        var index = from + 1
        while index < text.count {
            if backslashEscapes, text[index] == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if text[index] == quote {
                if next(text, index) == quote {
                    index += 2
                    continue
                }
                return index + 1
            }
            index += 1
        }
        return text.count
    }

    /// The dollar-quote opening tag (`$$` or `$name$`) starting at `index`, if there is one.
    private static func dollarTag(_ text: [UInt8], at index: Int) -> [UInt8]? {
        if index > 0, isIdentifierByte(text[index - 1]) {
            return nil  // `$1` parameters and identifiers containing `$`
        }
        var end = index + 1
        while end < text.count, text[end] != UInt8(ascii: "$") {
            guard isIdentifierByte(text[end]), !(end == index + 1 && isDigit(text[end])) else { return nil }
            end += 1
        }
        return end < text.count ? Array(text[index...end]) : nil
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || byte == UInt8(ascii: "_") || byte >= 0x80
            || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
