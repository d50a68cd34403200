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
        let valid = (UInt32.max >> UInt32(31 - length)) & ~1
        var plain = monthDays & valid
        if lastDay { plain |= 1 << UInt32(length) }
        var offsets = daysBeforeLast
        while offsets != 0 {
            let offset = offsets.trailingZeroBitCount
            offsets &= offsets - 1
            if offset < length { plain |= 1 << UInt32(length - offset) }
        }
        var special: UInt32 = 0
        if let nearestWeekday {
            special |= 1 << UInt32(Self.nearestWeekday(to: nearestWeekday, firstWeekday: firstWeekday, length: length))
        }
        if lastWeekdayOfMonth {
            let lastWeekday = (firstWeekday + length - 1) % 7
            special |= 1 << UInt32(lastWeekday == 0 ? length - 2 : lastWeekday == 6 ? length - 1 : length)
        }
        var weekdayMask: UInt32 = 0
        var nthMask: UInt32 = 0
        for weekday in 0..<7 {
            let first = 1 + (weekday - firstWeekday + 7) % 7  // the month's first such day
            if weekdays & (1 << UInt8(weekday)) != 0 {
                for day in stride(from: first, through: length, by: 7) { weekdayMask |= 1 << UInt32(day) }
            }
            let wanted = nthWeekdays[weekday]
            guard wanted != 0 else { continue }
            for n in 1...5 where wanted & (1 << UInt8(n)) != 0 && first + 7 * (n - 1) <= length {
                nthMask |= 1 << UInt32(first + 7 * (n - 1))
            }
            if wanted & Self.lastBit != 0 {
                nthMask |= 1 << UInt32(first + 7 * ((length - first) / 7))
            }
        }

        let monthDay = hasSpecialMonthDay ? special : plain
        let weekdayPart = hasNth ? nthMask : weekdayMask
        if isOr {
            // croniter evaluates each side with the other field blanked, but `#`, `Ld` and
            // `W` live outside the fields and stay on both sides (its quirk Q3).
            let monthSide = monthDay & (hasNth ? nthMask : valid)
            let weekSide = (hasSpecialMonthDay ? special : valid) & weekdayPart
            return monthSide | weekSide
        }
        let monthDayPart = hasSpecialMonthDay || !monthDayIsStar ? monthDay : valid
        let weekPart = hasNth || !weekdayIsStar ? weekdayPart : valid
        return monthDayPart & weekPart
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
