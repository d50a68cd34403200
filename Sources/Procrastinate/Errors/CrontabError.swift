import Foundation
/// Where something is in a crontab file.
public struct CrontabLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file's name (as given to the parser).
    public var file: String
    /// 1-based line number.
    public var line: Int
    /// 1-based character column.
    public var column: Int

    /// A location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, or the file alone for a mistake about a whole file or folder.
    public var description: String { line == 0 ? file : "\(file):\(line):\(column)" }
}

/// A mistake in a crontab file.
public struct CrontabError: ProcrastinateError, Hashable, Comparable {
    /// Where it is.
    public var location: CrontabLocation
    /// What is wrong.
    public var message: String

    /// A mistake at `location`.
    public init(location: CrontabLocation, message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }

    /// In file, line and column order.
    public static func < (lhs: CrontabError, rhs: CrontabError) -> Bool {
        (lhs.location.file, lhs.location.line, lhs.location.column) < (rhs.location.file, rhs.location.line, rhs.location.column)
    }
}

/// Every mistake found in a set of crontab files; nothing of them was loaded.
public struct CrontabErrors: ProcrastinateError, Hashable {
    /// The mistakes, in file and line order.
    public var errors: [CrontabError]

    /// A set of mistakes.
    public init(errors: [CrontabError]) {
        self.errors = errors
    }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
