public import Foundation

/// Why a cron expression was rejected, and where.
///
/// ```
/// day-of-week: '5#6' at column 9: the nth weekday must be 1 to 5
/// ```
public struct CronParseError: LocalizedError, Hashable, Sendable, CustomStringConvertible {
    /// croniter's exception class for the same input, so that Python-facing tools can tell
    /// the same story.
    public enum Kind: String, Sendable, Hashable {
        /// `CroniterBadCronError`: malformed expression.
        case badCron = "CroniterBadCronError"
        /// `CroniterNotAlphaError`: unknown token or name.
        case notAlpha = "CroniterNotAlphaError"
        /// `CroniterUnsupportedSyntaxError`: a combination croniter does not support.
        case unsupportedSyntax = "CroniterUnsupportedSyntaxError"
    }

    /// The croniter class of the error.
    public var kind: Kind
    /// The field the error is in, or nil for the expression as a whole.
    public var field: CronField?
    /// The offending token.
    public var token: String
    /// The 1-based character position of the token in the expression.
    public var column: Int
    /// What is wrong, as a sentence.
    public var reason: String

    /// The ``description``, for `localizedDescription`.
    public var errorDescription: String? { description }

    public var description: String {
        let place = field.map { "\($0): " } ?? ""
        return "\(place)'\(token)' at column \(column): \(reason)"
    }
}
