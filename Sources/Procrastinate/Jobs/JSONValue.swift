import Foundation

/// A JSON value, for task arguments given as data rather than as a Codable type.
///
/// ```swift
/// try await app.configureTask(name: "sum").defer(["a": 3, "b": 5])
/// ```
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

/// How task arguments are written to and read from the `args` column.
///
/// Dates are ISO 8601 strings, which other languages (Python among them) can read.
enum ArgumentsCoding {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// `arguments` as a JSON object, merged over `extra` (the arguments win).
    static func encode<Arguments: Encodable>(_ arguments: Arguments, over extra: [String: JSONValue], taskName: String) throws -> String {
        let encoder = encoder()
        let data: Data
        do {
            data = try encoder.encode(arguments)
        } catch {
            throw ArgumentsError(taskName: taskName, codingPath: "", reason: "cannot be encoded: \(error)", json: "")
        }
        guard data.first == UInt8(ascii: "{") else {
            throw ArgumentsError(
                taskName: taskName, codingPath: "", reason: "arguments must encode to a JSON object (keyword arguments)",
                json: String(decoding: data, as: UTF8.self)
            )
        }
        guard !extra.isEmpty else { return String(decoding: data, as: UTF8.self) }
        let given = try decoder().decode([String: JSONValue].self, from: data)
        return String(decoding: try encoder.encode(extra.merging(given) { _, argument in argument }), as: UTF8.self)
    }

    /// The arguments of a job decoded as `Arguments`, or an error naming what does not fit.
    static func decode<Arguments: Decodable>(_ type: Arguments.Type, from json: String, taskName: String) throws -> Arguments {
        do {
            return try decoder().decode(type, from: Data(json.utf8))
        } catch let error as DecodingError {
            let (context, reason): (DecodingError.Context?, String) = switch error {
            case .typeMismatch(let expected, let context): (context, "expected \(expected)")
            case .valueNotFound(let expected, let context): (context, "missing value of type \(expected)")
            case .keyNotFound(let key, let context): (context, "missing key '\(key.stringValue)'")
            case .dataCorrupted(let context): (context, context.debugDescription)
            @unknown default: (nil, "\(error)")
            }
            let path = (context?.codingPath ?? []).map { $0.intValue.map(String.init) ?? $0.stringValue }
            throw ArgumentsError(taskName: taskName, codingPath: path.joined(separator: "."), reason: reason, json: json)
        }
    }
}
