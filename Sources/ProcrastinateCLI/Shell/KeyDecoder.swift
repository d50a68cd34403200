/// Turns the bytes a terminal sends in raw mode into ``LineEditor/Key``s: UTF-8 text,
/// control characters and the VT100/xterm escape sequences of the arrow and editing keys.
struct KeyDecoder {
    private var pending: [UInt8] = []

    /// Adds `byte`; returns the key it completes, if any. Unknown sequences are skipped.
    mutating func feed(_ byte: UInt8) -> LineEditor.Key? {
        pending.append(byte)
        switch decode(pending) {
        case .incomplete:
            return nil
        case .key(let key):
            pending.removeAll(keepingCapacity: true)
            return key
        case .unknown:
            pending.removeAll(keepingCapacity: true)
            return nil
        }
    }

    private enum Decoded {
        case incomplete, key(LineEditor.Key), unknown
    }

    private func decode(_ bytes: [UInt8]) -> Decoded {
        let first = bytes[0]
        switch first {
        case 0x1B: return decodeEscape(bytes)
        case 0x01: return .key(.home)  // Ctrl-A
        case 0x02: return .key(.left)  // Ctrl-B
        case 0x03: return .key(.interrupt)  // Ctrl-C
        case 0x04: return .key(.endOfInput)  // Ctrl-D
        case 0x05: return .key(.end)  // Ctrl-E
        case 0x06: return .key(.right)  // Ctrl-F
        case 0x08, 0x7F: return .key(.backspace)
        case 0x0A, 0x0D: return .key(.enter)
        case 0x0B: return .key(.killToEnd)  // Ctrl-K
        case 0x0E: return .key(.down)  // Ctrl-N
        case 0x10: return .key(.up)  // Ctrl-P
        case 0x15: return .key(.killToStart)  // Ctrl-U
        case ..<0x20: return .unknown
        default: return decodeUTF8(bytes)
        }
    }

    /// `ESC [ X`, `ESC O X` and `ESC [ n ~`.
    private func decodeEscape(_ bytes: [UInt8]) -> Decoded {
        guard bytes.count >= 3 else {
            return bytes.count == 1 || bytes[1] == UInt8(ascii: "[") || bytes[1] == UInt8(ascii: "O") ? .incomplete : .unknown
        }
        let last = bytes[bytes.count - 1]
        if bytes.count == 3 {
            switch last {
            case UInt8(ascii: "A"): return .key(.up)
            case UInt8(ascii: "B"): return .key(.down)
            case UInt8(ascii: "C"): return .key(.right)
            case UInt8(ascii: "D"): return .key(.left)
            case UInt8(ascii: "H"): return .key(.home)
            case UInt8(ascii: "F"): return .key(.end)
            default: break
            }
        }
        guard last == UInt8(ascii: "~") else {
            // Parameters (digits and ';') continue the sequence; anything else ends it.
            return (0x30...0x3B).contains(last) && bytes.count < 8 ? .incomplete : .unknown
        }
        switch String(decoding: bytes[2..<(bytes.count - 1)], as: UTF8.self) {
        case "1", "7": return .key(.home)
        case "3": return .key(.delete)
        case "4", "8": return .key(.end)
        default: return .unknown
        }
    }

    private func decodeUTF8(_ bytes: [UInt8]) -> Decoded {
        let first = bytes[0]
        let length = first < 0x80 ? 1 : first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : first >= 0xC0 ? 2 : 0
        guard length > 0 else { return .unknown }
        guard bytes.count == length else { return bytes.count < length ? .incomplete : .unknown }
        guard let scalar = String(validating: bytes, as: UTF8.self)?.first else { return .unknown }
        return .key(.character(scalar))
    }
}
