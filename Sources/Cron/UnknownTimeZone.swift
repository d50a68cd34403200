public import Foundation

/// A time zone name that is not an IANA zone.
public struct UnknownTimeZone: Error, Hashable, CustomStringConvertible {
    /// The name given.
    public var name: String

    /// The error for `name`.
    public init(name: String) {
        self.name = name
    }

    public var description: String {
        "unknown time zone '\(name)' (expected an IANA name such as Europe/Paris)"
    }
}

extension TimeZone {
    /// The IANA time zone `name` (`Europe/Paris`, `America/New_York`, `UTC`).
    ///
    /// ```swift
    /// let paris = try TimeZone(named: "Europe/Paris")
    /// ```
    ///
    /// - Throws: ``UnknownTimeZone`` for a name that is not one, such as a typo; unlike
    ///   `TimeZone(identifier:)!`, which would crash.
    public init(named name: String) throws(UnknownTimeZone) {
        guard let zone = TimeZone(identifier: name) else { throw UnknownTimeZone(name: name) }
        self = zone
    }
}
