/// A parsed cron expression, in croniter 7.0's language and with croniter's meaning.
///
/// ```swift
/// let everyFiveMinutes = try CronExpression("*/5 * * * *")
/// let withSeconds = try CronExpression("0 9 * * mon-fri 30")   // 09:00:30 on weekdays
/// ```
///
/// Five fields (`minute hour day-of-month month day-of-week`), six (seconds last) or seven
/// (then the year). Besides croniter's whole language it accepts a few forms croniter
/// rejects (so no working schedule changes meaning): `5L`, `5#L` and `1-5#2` in day-of-week,
/// `L-n` and `LW` in day-of-month, a `+` before day-of-week to AND the two day fields, and
/// `@every <duration>`.
///
/// The expression is evaluated on wall-clock time; ``CronSchedule`` adds a time zone and its
/// daylight-saving policy.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// croniter's options.
    public struct Options: Sendable, Hashable {
        /// Day-of-month OR day-of-week when both are restricted (croniter's `day_or`,
        /// default true); false ANDs them.
        public var dayOr: Bool
        /// The key `H` hashes (croniter's `hash_id`); `H` is an error without it.
        public var hashID: String?
        /// Whether a nickname takes its hashed form when there is a ``hashID`` (croniter:
        /// `@daily` becomes `H H * * * H`). False keeps nicknames plain (`@daily` is midnight)
        /// and hashes only the `H` an expression writes, as periodic tasks do.
        public var hashesNicknames: Bool
        /// With 6 or 7 fields, the seconds field comes first (croniter's `second_at_beginning`).
        public var secondsFirst: Bool

        /// Options with croniter's (and Procrastinate's) defaults.
        public init(dayOr: Bool = true, hashID: String? = nil, hashesNicknames: Bool = true, secondsFirst: Bool = false) {
            self.dayOr = dayOr
            self.hashID = hashID
            self.hashesNicknames = hashesNicknames
            self.secondsFirst = secondsFirst
        }
    }

    /// The expression as written.
    public let text: String
    /// The options it was parsed with.
    public let options: Options
    /// Whether fire times are whole seconds (6 or 7 fields) rather than whole minutes.
    public internal(set) var hasSeconds = false

    var seconds: UInt64 = 1
    var minutes: UInt64 = 0
    var hours: UInt64 = 0
    var months: UInt16 = 0
    /// Allowed years; nil when the expression has no year field or it is `*`.
    var years: YearSet?
    var days = DayRule()
    /// Day masks of `days`, indexed by `firstWeekday * 4 + (length - 28)`.
    var dayMasks: [UInt32] = []
    /// Whether the hour field is `*` (every hour), which croniter's DST rules look at.
    var hourIsWildcard = false
    /// `@every`: fire every so many seconds since the epoch.
    var interval: Int64?
    /// The expression's fields as written, after expanding nicknames and `H`.
    var fieldTexts = FieldTexts()
    /// Surprising forms noticed while parsing, for the linter.
    var notes: [CronLintWarning] = []

    /// Parses `text`.
    ///
    /// - Throws: ``CronParseError`` naming the field, the token, its column and the reason.
    public init(_ text: String, options: Options = Options()) throws(CronParseError) {
        self.text = text
        self.options = options
        var parser = CronParser(text: text, options: options)
        try parser.parse(into: &self)
        dayMasks = days.masks()
        neverFires = computeNeverFires()
    }

    public var description: String { text }

    /// Whether the expression can never fire (such as `0 0 30 2 *`).
    public private(set) var neverFires = false

    private func computeNeverFires() -> Bool {
        if interval != nil { return false }
        if let years, years.isEmpty { return true }
        for month in 1...12 where months & (1 << UInt16(month)) != 0 {
            let longest = CivilTime.daysInMonth(year: 2000, month: month)
            for length in (month == 2 ? 28 : longest)...longest {
                for firstWeekday in 0..<7 where dayMasks[firstWeekday * 4 + length - 28] != 0 {
                    return false
                }
            }
        }
        return true
    }

    /// The text of each field (nil: absent), after expanding nicknames and `H`.
    struct FieldTexts: Hashable, Sendable {
        var texts: [String?] = []

        subscript(field: CronField) -> String? {
            field.rawValue < texts.count ? texts[field.rawValue] : nil
        }
    }

    public static func == (lhs: CronExpression, rhs: CronExpression) -> Bool {
        lhs.text == rhs.text && lhs.options == rhs.options
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(text)
        hasher.combine(options)
    }
}
