/// Which days of a month a cron expression fires on: the day-of-month and day-of-week fields
/// together, with croniter's rules for combining them.
///
/// A month's days depend only on the weekday of its first day and on its length, so the
/// rule is turned at parse time into 28 day masks (7 weekdays × 4 lengths) and a search
/// never evaluates the fields again.
struct DayRule: Hashable, Sendable {
    // Day of month.
    /// Days 1…31 named in the field (bits 1…31).
    var monthDays: UInt32 = 0
    /// `L`: the last day of the month.
    var lastDay = false
    /// `L-n` (extension): the n-th day before the last (bit n).
    var daysBeforeLast: UInt32 = 0
    /// `nW` / `Wn`: the weekday nearest to day n.
    var nearestWeekday: Int?
    /// `LW` (extension): the last weekday (Monday to Friday) of the month.
    var lastWeekdayOfMonth = false
    /// Whether the day-of-month field stands for every day (croniter's `*`).
    var monthDayIsStar = false

    // Day of week.
    /// Weekdays 0 (Sunday) … 6 named in the field.
    var weekdays: UInt8 = 0
    /// `d#n` and `Ld`: for weekday d, bit n (1…5) for the n-th, bit 6 for the last.
    var nthWeekdays: [UInt8] = Array(repeating: 0, count: 7)
    /// Whether the day-of-week field stands for every day (croniter's `*`).
    var weekdayIsStar = false

    /// Whether the two day fields are ORed (both restricted, `day_or`), rather than ANDed.
    var isOr = false

    static let lastBit: UInt8 = 1 << 6

    var hasNth: Bool { nthWeekdays.contains { $0 != 0 } }
    /// Day-of-month parts that croniter keeps outside the field (they survive the OR split).
    var hasSpecialMonthDay: Bool { nearestWeekday != nil || lastWeekdayOfMonth }

    /// The day mask (bit d for day d) of a month whose first day is weekday `firstWeekday`
    /// and which has `length` days.
    func mask(firstWeekday: Int, length: Int) -> UInt32 {
        var mask: UInt32 = 0
        for day in 1...length where matches(day: day, firstWeekday: firstWeekday, length: length) {
            mask |= 1 << UInt32(day)
        }
        return mask
    }

    private func matches(day: Int, firstWeekday: Int, length: Int) -> Bool {
        let weekday = (firstWeekday + day - 1) % 7
        let special = specialMonthDayMatches(day: day, firstWeekday: firstWeekday, length: length)
        let monthDay = hasSpecialMonthDay ? special : plainMonthDayMatches(day: day, length: length)
        let nth = nthMatches(day: day, weekday: weekday, length: length)
        let weekdayPart = hasNth ? nth : weekdays & (1 << UInt8(weekday)) != 0
        if isOr {
            // croniter evaluates each side with the other field blanked, but `#`, `Ld` and
            // `W` live outside the fields and stay on both sides (its quirk Q3).
            let monthSide = monthDay && (hasNth ? nth : true)
            let weekSide = (hasSpecialMonthDay ? special : true) && weekdayPart
            return monthSide || weekSide
        }
        let monthDayPart = hasSpecialMonthDay || !monthDayIsStar ? monthDay : true
        let weekPart = hasNth || !weekdayIsStar ? weekdayPart : true
        return monthDayPart && weekPart
    }

    private func plainMonthDayMatches(day: Int, length: Int) -> Bool {
        if monthDays & (1 << UInt32(day)) != 0 || (lastDay && day == length) {
            return true
        }
        let beforeLast = length - day
        return beforeLast < 32 && daysBeforeLast & (1 << UInt32(beforeLast)) != 0
    }

    private func specialMonthDayMatches(day: Int, firstWeekday: Int, length: Int) -> Bool {
        if let nearestWeekday, day == Self.nearestWeekday(to: nearestWeekday, firstWeekday: firstWeekday, length: length) {
            return true
        }
        if lastWeekdayOfMonth {
            let lastWeekday = (firstWeekday + length - 1) % 7
            let last = lastWeekday == 0 ? length - 2 : lastWeekday == 6 ? length - 1 : length
            return day == last
        }
        return false
    }

    private func nthMatches(day: Int, weekday: Int, length: Int) -> Bool {
        let wanted = nthWeekdays[weekday]
        guard wanted != 0 else { return false }
        if wanted & (1 << UInt8((day - 1) / 7 + 1)) != 0 {
            return true
        }
        return wanted & Self.lastBit != 0 && day + 7 > length
    }

    /// The weekday (Monday to Friday) nearest to `target` within the month, croniter's way:
    /// Saturday moves back to Friday unless that leaves the month, Sunday forward to Monday
    /// unless that leaves the month; a target past the end is the last day first.
    static func nearestWeekday(to target: Int, firstWeekday: Int, length: Int) -> Int {
        let day = min(target, length)
        let weekday = (firstWeekday + day - 1) % 7
        switch weekday {
        case 6: return day > 1 ? day - 1 : day + 2
        case 0: return day < length ? day + 1 : day - 2
        default: return day
        }
    }
}
