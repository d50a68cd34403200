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
    /// `d#n` and `Ld`.
    var nthWeekdays = NthWeekdays()
    /// Whether the day-of-week field stands for every day (croniter's `*`).
    var weekdayIsStar = false

    /// Whether the two day fields are ORed (both restricted, `day_or`), rather than ANDed.
    var isOr = false

    var hasNth: Bool { !nthWeekdays.isEmpty }
    /// Day-of-month parts that croniter keeps outside the field (they survive the OR split).
    var hasSpecialMonthDay: Bool { nearestWeekday != nil || lastWeekdayOfMonth }

    /// The 28 day masks, indexed by `firstWeekday * 4 + (length - 28)`.
    func masks() -> [UInt32] {
        var masks = [UInt32](repeating: 0, count: 28)
        let simple = !hasNth && !hasSpecialMonthDay && !lastDay && daysBeforeLast == 0
        for firstWeekday in 0..<7 {
            for length in 28...31 {
                let valid = (UInt32.max >> UInt32(31 - length)) & ~1
                masks[firstWeekday * 4 + length - 28] = simple && monthDayIsStar && weekdayIsStar
                    ? valid : mask(firstWeekday: firstWeekday, length: length)
            }
        }
        return masks
    }

    /// Days 1…31 (bits 1…31) of a month starting on weekday `firstWeekday` that fall on one of
    /// `weekdays`.
    @inline(__always)
    private static func weekdayPattern(_ weekdays: UInt8, firstWeekday: Int) -> UInt32 {
        // Bit k of the rotated set: day k + 1 is a wanted weekday; then repeat every 7 days.
        let rotated = UInt64(((weekdays >> UInt8(firstWeekday)) | (weekdays << UInt8(7 - firstWeekday))) & 0x7F)
        let weeks = rotated | rotated << 7 | rotated << 14 | rotated << 21 | rotated << 28
        return UInt32(truncatingIfNeeded: weeks << 1)
    }

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
        let weekdayMask = Self.weekdayPattern(weekdays, firstWeekday: firstWeekday) & valid
        var nthMask: UInt32 = 0
        for weekday in 0..<7 where hasNth {
            let first = 1 + (weekday - firstWeekday + 7) % 7  // the month's first such day
            let wanted = nthWeekdays[weekday]
            guard wanted != 0 else { continue }
            for n in 1...5 where wanted & (1 << UInt8(n)) != 0 && first + 7 * (n - 1) <= length {
                nthMask |= 1 << UInt32(first + 7 * (n - 1))
            }
            if wanted & NthWeekdays.last != 0 {
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

/// For each weekday, which of its occurrences in a month are wanted: bit n (1…5) for the
/// n-th, bit 6 for the last. Packed in one word so that copying a rule allocates nothing.
struct NthWeekdays: Hashable, Sendable {
    /// The bit of "the last one of the month".
    static let last: UInt8 = 1 << 6
    private var packed: UInt64 = 0

    subscript(weekday: Int) -> UInt8 {
        get { UInt8(truncatingIfNeeded: packed >> UInt64(weekday * 8)) }
        set {
            let shift = UInt64(weekday * 8)
            packed = (packed & ~(0xFF << shift)) | (UInt64(newValue) << shift)
        }
    }

    var isEmpty: Bool { packed == 0 }
}
