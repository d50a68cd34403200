/// A field of a cron expression.
public enum CronField: Int, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    // Raw values are croniter's internal field indexes, which its `H` hash formula uses.
    case minute = 0
    case hour = 1
    case dayOfMonth = 2
    case month = 3
    case dayOfWeek = 4
    case second = 5
    case year = 6

    /// The smallest and largest values the field takes.
    public var range: ClosedRange<Int> {
        switch self {
        case .minute, .second: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 0...6
        case .year: 1970...2099
        }
    }

    /// The field's name in messages: `day-of-week`, `minute`, …
    public var description: String {
        switch self {
        case .minute: "minute"
        case .hour: "hour"
        case .dayOfMonth: "day-of-month"
        case .month: "month"
        case .dayOfWeek: "day-of-week"
        case .second: "second"
        case .year: "year"
        }
    }

    /// The value a lower-case three-letter name stands for in this field (`jan` → 1, `fri` → 5).
    func value<Bytes: Collection>(forName name: Bytes) -> Int? where Bytes.Element == UInt8 {
        switch self {
        case .month: Self.monthNames.firstIndex { $0.utf8.elementsEqual(name) }.map { $0 + 1 }
        case .dayOfWeek: Self.weekdayNames.firstIndex { $0.utf8.elementsEqual(name) }
        default: nil
        }
    }

    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let weekdayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
}
