import Foundation
import Synchronization

/// Checks arguments given as data (a name-based defer, the command line, a crontab line)
/// against a task's `Decodable` type, for what `JSONDecoder` does not say: the keys of the JSON
/// that no field reads (a typo in an optional field would otherwise become nil), and where a
/// number that does not fit its field is (`JSONDecoder` reports "not valid JSON", no path).
///
/// It decodes the type again over the parsed JSON, recording which keys each object gives to
/// the type. It only advises: the arguments are decoded by `JSONDecoder` first, as a worker
/// decodes them, and a type this decoder cannot follow is left to that decoding alone. Key
/// structures found right are remembered (`shapes`), so that the many jobs of a batch or of a
/// busy caller, which share a few structures, are checked by `JSONDecoder` alone.
enum ArgumentsChecker {
    /// Throws ``ArgumentsError`` naming the path of a value the type cannot decode, or of a
    /// key it does not read (but the top-level keys of `mayLeaveUnread`).
    static func check<Arguments: Decodable>(
        _ type: Arguments.Type, json: String, taskName: String, mayLeaveUnread: Set<String> = [], shapes: KnownShapes? = nil
    ) throws {
        let decoded: Result<Arguments, any Error> = Result { try ArgumentsCoding.decode(type, from: json, taskName: taskName) }
        let shape = shapes.flatMap { _ in Self.shape(of: json).map { $0 + "|" + mayLeaveUnread.sorted().joined(separator: ",") } }
        if case .success = decoded, let shape, shapes?.contains(shape) == true { return }
        guard let value = try? ArgumentsCoding.decoder().decode(JSONValue.self, from: Data(json.utf8)) else {
            _ = try decoded.get()
            return
        }
        let reads = KeyReads()
        mayLeaveUnread.forEach { reads.reading($0, at: []) }
        do {
            _ = try Arguments(from: ValueDecoder(value: value, path: [], reads: reads))
        } catch let error as DecodingError {
            // A path where JSONDecoder gave none (a fraction for an Int, a number too large).
            if case .failure(let failure as ArgumentsError) = decoded, failure.codingPath.isEmpty,
                case .typeMismatch(_, let context) = error, !context.codingPath.isEmpty
            {
                throw ArgumentsError(taskName: taskName, codingPath: Self.path(context.codingPath), reason: context.debugDescription, json: json)
            }
            _ = try decoded.get()
            return
        } catch {
            _ = try decoded.get()
            return
        }
        _ = try decoded.get()
        if let (path, key, known) = reads.firstUnread(in: value) {
            let reading = known.isEmpty ? "it reads no key there" : "it reads \(known.sorted().map { "'\($0)'" }.joined(separator: ", "))"
            throw ArgumentsError(
                taskName: taskName, codingPath: Self.path(path + [key]), reason: "unknown key '\(key.stringValue)' (\(reading))", json: json
            )
        }
        if let shape { shapes?.insert(shape) }
    }

    /// The key structure of `json` (its objects' keys, nested), without its values; nil when
    /// it does not parse.
    static func shape(of json: String) -> String? {
        func shape(_ value: Any) -> String {
            switch value {
            case let object as [String: Any]:
                "{" + object.keys.sorted().map { $0 + ":" + shape(object[$0]!) }.joined(separator: ",") + "}"
            case let array as [Any]:
                "[" + array.map(shape).joined(separator: ",") + "]"
            default:
                ""
            }
        }
        return (try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed])).map(shape)
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}

/// The key structures a task's arguments were found right with, a bounded number of them.
final class KnownShapes: Sendable {
    private let shapes = Mutex<Set<String>>([])
    /// How many are remembered; past it, none more (the check then runs for the others).
    static let capacity = 256

    func contains(_ shape: String) -> Bool {
        shapes.withLock { $0.contains(shape) }
    }

    func insert(_ shape: String) {
        shapes.withLock { shapes in
            if shapes.count < Self.capacity { shapes.insert(shape) }
        }
    }
}

/// A key of a JSON object or an index of an array.
private struct JSONKey: CodingKey, Hashable {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) { (self.stringValue, self.intValue) = (stringValue, nil) }
    init(intValue: Int) { (self.stringValue, self.intValue) = ("\(intValue)", intValue) }
}

/// Which keys of each object (by path) the type read; objects read whole (a dictionary) are
/// not checked.
private final class KeyReads {
    private var read: [String: Set<String>] = [:]
    private var whole: Set<String> = []

    func reading(_ key: String, at path: [any CodingKey]) {
        read[ArgumentsChecker.path(path), default: []].insert(key)
    }

    func readingAll(at path: [any CodingKey]) {
        whole.insert(ArgumentsChecker.path(path))
    }

    /// The first key, in key order, of an object the type read by keys, that it did not read
    /// (a null value is no mistake: it reads as a missing one); with the keys it read there.
    func firstUnread(in value: JSONValue, at path: [any CodingKey] = []) -> ([any CodingKey], JSONKey, Set<String>)? {
        switch value {
        case .object(let members):
            let place = ArgumentsChecker.path(path)
            if let known = read[place], !whole.contains(place),
                let key = members.keys.sorted().first(where: { !known.contains($0) && members[$0] != .null })
            {
                return (path, JSONKey(stringValue: key), known)
            }
            for key in members.keys.sorted() {
                if let found = firstUnread(in: members[key]!, at: path + [JSONKey(stringValue: key)]) { return found }
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                if let found = firstUnread(in: element, at: path + [JSONKey(intValue: index)]) { return found }
            }
        default:
            break
        }
        return nil
    }
}

/// Decodes a ``JSONValue`` as `JSONDecoder` with ``ArgumentsCoding``'s strategies would.
private struct ValueDecoder: Decoder {
    let value: JSONValue
    let path: [any CodingKey]
    let reads: KeyReads
    var codingPath: [any CodingKey] { path }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch([String: JSONValue].self, value, path) }
        return KeyedDecodingContainer(Keyed(members: members, path: path, reads: reads))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch([JSONValue].self, value, path) }
        return Unkeyed(elements: elements, path: path, reads: reads)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(decoder: self) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if type == Date.self {
            guard case .string(let text) = value, let date = ISO8601DateFormatter().date(from: text) else {
                throw mismatch(type, value, path)
            }
            return date as! T
        }
        if type == URL.self {
            guard case .string(let text) = value, let url = URL(string: text) else { throw mismatch(type, value, path) }
            return url as! T
        }
        if type == Data.self {
            guard case .string(let text) = value, let data = Data(base64Encoded: text) else { throw mismatch(type, value, path) }
            return data as! T
        }
        if type == Decimal.self {
            switch value {
            case .int(let number): return Decimal(number) as! T
            case .double(let number): return Decimal(number) as! T
            default: throw mismatch(type, value, path)
            }
        }
        return try T(from: self)
    }

    func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard case .int(let number) = value, let fitting = T(exactly: number) else { throw mismatch(type, value, path) }
        return fitting
    }

    func floatingPoint<T: BinaryFloatingPoint>(_ type: T.Type) throws -> T {
        switch value {
        case .int(let number): return T(number)
        case .double(let number): return T(number)
        default: throw mismatch(type, value, path)
        }
    }
}

/// A `typeMismatch` saying what was found: "expected Int, found the number 1.5".
private func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [any CodingKey]) -> DecodingError {
    let found: String = switch value {
    case .null: "null"
    case .bool(let flag): "\(flag)"
    case .int(let number): "the number \(number)"
    case .double(let number): number == number.rounded() ? "the number \(number), too large" : "the number \(number)"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
    return DecodingError.typeMismatch(type, DecodingError.Context(codingPath: path, debugDescription: "expected \(type), found \(found)"))
}

private struct Single: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.path }

    func decodeNil() -> Bool { decoder.value == .null }
    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let flag) = decoder.value else { throw mismatch(type, decoder.value, decoder.path) }
        return flag
    }
    func decode(_ type: String.Type) throws -> String {
        guard case .string(let text) = decoder.value else { throw mismatch(type, decoder.value, decoder.path) }
        return text
    }
    func decode(_ type: Double.Type) throws -> Double { try decoder.floatingPoint(type) }
    func decode(_ type: Float.Type) throws -> Float { try decoder.floatingPoint(type) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.integer(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decode(type) }
}

private struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let path: [any CodingKey]
    let reads: KeyReads
    var codingPath: [any CodingKey] { path }

    var allKeys: [Key] {
        reads.readingAll(at: path)
        return members.keys.compactMap { Key(stringValue: $0) }
    }

    func contains(_ key: Key) -> Bool {
        reads.reading(key.stringValue, at: path)
        return members[key.stringValue] != nil
    }

    private func decoder(for key: Key) throws -> ValueDecoder {
        reads.reading(key.stringValue, at: path)
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, DecodingError.Context(codingPath: path, debugDescription: "missing key '\(key.stringValue)'"))
        }
        return ValueDecoder(value: value, path: path + [key], reads: reads)
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        reads.reading(key.stringValue, at: path)
        return (members[key.stringValue] ?? .null) == .null
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder(for: key).singleValueContainer().decode(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(for: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder(for: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        ValueDecoder(value: members["super"] ?? .null, path: path + [JSONKey(stringValue: "super")], reads: reads)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder { try decoder(for: key) }
}

private struct Unkeyed: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let path: [any CodingKey]
    let reads: KeyReads
    var currentIndex = 0
    var codingPath: [any CodingKey] { path }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    init(elements: [JSONValue], path: [any CodingKey], reads: KeyReads) {
        (self.elements, self.path, self.reads) = (elements, path, reads)
    }

    private mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(JSONValue.self, DecodingError.Context(codingPath: path, debugDescription: "the array ends"))
        }
        defer { currentIndex += 1 }
        return ValueDecoder(value: elements[currentIndex], path: path + [JSONKey(intValue: currentIndex)], reads: reads)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().singleValueContainer().decode(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }

    mutating func superDecoder() throws -> any Decoder { try next() }
}
