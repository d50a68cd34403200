public import Foundation

/// The error of a failed attempt of a job, as recorded with the job (`jobs show`, the
/// dashboard's job page) and removed with it.
public struct JobError: Sendable, Hashable {
    /// What a worker records of an error: its type and its message, bounded.
    public struct Cause: Sendable, Hashable {
        /// The error's type, e.g. `MyService.PaymentDeclined`.
        public var type: String
        /// Its description.
        public var message: String

        /// The longest ``type`` and ``message`` kept, in characters.
        public static let maximumTypeLength = 200
        public static let maximumMessageLength = 2_000

        /// A cause, cut to the bounds.
        public init(type: String, message: String) {
            self.type = String(type.prefix(Self.maximumTypeLength))
            self.message = String(message.prefix(Self.maximumMessageLength))
        }

        /// The cause of `error`.
        public init(_ error: any Error) {
            self.init(type: String(reflecting: Swift.type(of: error)), message: String(describing: error))
        }
    }

    /// The attempt, 1 for the job's first run.
    public var attempt: Int
    /// When the attempt ended.
    public var at: Date
    /// The error.
    public var cause: Cause

    /// A recorded error.
    public init(attempt: Int, at: Date, cause: Cause) {
        self.attempt = attempt
        self.at = at
        self.cause = cause
    }
}
