import Foundation

/// Python's `repr` of JSON text, keys in the order written: how Procrastinate's shell prints
/// a job's arguments (`{'a': 3, 'b': [1, True, None]}`).
enum PythonRepr {
    /// The repr of the JSON value `json`; the text itself when it is not valid JSON.
    static func render(json: String) -> String {
        var reader = Reader(bytes: Array(json.utf8))
        var output = ""
        guard reader.value(into: &output), reader.atEnd else { return json }
        return output
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        var atEnd: Bool {
            var copy = self
            copy.skipSpaces()
            return copy.index == copy.bytes.count
        }

        mutating func skipSpaces() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func value(into output: inout String) -> Bool {
            skipSpaces()
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "{"): return container(into: &output, close: UInt8(ascii: "}"), isObject: true)
            case UInt8(ascii: "["): return container(into: &output, close: UInt8(ascii: "]"), isObject: false)
            case UInt8(ascii: "\""):
                guard let text = string() else { return false }
                output += Self.quote(text)
                return true
            default:
                return literal(into: &output)
            }
        }

        mutating func container(into output: inout String, close: UInt8, isObject: Bool) -> Bool {
            index += 1
            output += isObject ? "{" : "["
            skipSpaces()
            if index < bytes.count, bytes[index] == close {
                index += 1
                output += isObject ? "}" : "]"
                return true
            }
            while true {
                if isObject {
                    skipSpaces()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = string() else { return false }
                    output += Self.quote(key) + ": "
                    skipSpaces()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return false }
                    index += 1
                }
                guard value(into: &output) else { return false }
                skipSpaces()
                guard index < bytes.count else { return false }
                if bytes[index] == close {
                    index += 1
                    output += isObject ? "}" : "]"
                    return true
                }
                guard bytes[index] == UInt8(ascii: ",") else { return false }
                index += 1
                output += ", "
            }
        }

        /// A JSON string's value.
        mutating func string() -> String? {
            let start = index
            index += 1
            var escaped = false
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    // Let the JSON decoder undo the escapes of this one string.
                    return try? JSONDecoder().decode(String.self, from: Data(bytes[start..<index]))
                }
            }
            return nil
        }

        mutating func literal(into output: inout String) -> Bool {
            let start = index
            while index < bytes.count, !",]} \t\r\n".utf8.contains(bytes[index]) { index += 1 }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            switch text {
            case "true": output += "True"
            case "false": output += "False"
            case "null": output += "None"
            default:
                guard !text.isEmpty else { return false }
                if text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
                    // Swift and Python both print the shortest round-trip digits.
                    guard let number = Double(text) else { return false }
                    output += "\(number)"
                } else {
                    guard text.allSatisfy({ $0.isNumber || $0 == "-" }) else { return false }
                    output += text
                }
            }
            return true
        }

        /// Python's repr of a string: single quotes unless the text holds one and no double quote.
        static func quote(_ text: String) -> String {
            let useDouble = text.contains("'") && !text.contains("\"")
            let quote: Character = useDouble ? "\"" : "'"
            var result = String(quote)
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\\": result += "\\\\"
                case "\n": result += "\\n"
                case "\r": result += "\\r"
                case "\t": result += "\\t"
                default:
                    if Character(scalar) == quote {
                        result += "\\\(quote)"
                    } else if scalar.value < 0x20 || scalar.value == 0x7F {
                        result += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                    } else {
                        result.unicodeScalars.append(scalar)
                    }
                }
            }
            result.append(quote)
            return result
        }
    }
}
