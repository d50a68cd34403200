/// Searching wall-clock time (seconds since 1970-01-01T00:00:00 on the expression's own
/// clock, ignoring time zones) for the expression's fire times.
///
/// Both directions walk year → month → day → hour → minute → second, jumping with bit
/// operations to the next allowed value of each field; nothing is allocated.
extension CronExpression {
    /// The latest year searched: Python's (and croniter's) `datetime` ends there.
    static let lastYear = 9999
    /// The earliest year searched.
    static let firstYear = 1

    /// The first fire time at or after `start`.
    func nextWallTime(atOrAfter start: Int64) -> Int64? {
        if let interval {
            let (quotient, remainder) = start.quotientAndRemainder(dividingBy: interval)
            let aligned = quotient * interval
            return remainder > 0 ? aligned + interval : (remainder < 0 ? aligned : start)
        }
        var time = WallTime(start)
        while time.year <= Self.lastYear {
            if let years, !years.contains(time.year) {
                guard let next = years.first(atOrAfter: time.year + 1) else { return nil }
                time.startYear(next)
                continue
            }
            let monthsLeft = months & (UInt16.max << UInt16(time.month))
            guard monthsLeft != 0 else {
                time.startYear(time.year + 1)
                continue
            }
            time.moveForward(month: monthsLeft.trailingZeroBitCount)
            let daysLeft = dayMask(of: time) & (UInt32.max << UInt32(time.day))
            guard daysLeft != 0 else {
                time.startNextMonth()
                continue
            }
            time.moveForward(day: daysLeft.trailingZeroBitCount)
            let hoursLeft = hours & (UInt64.max << UInt64(time.hour))
            guard hoursLeft != 0 else {
                time.startNextDay()
                continue
            }
            time.moveForward(hour: hoursLeft.trailingZeroBitCount)
            let minutesLeft = minutes & (UInt64.max << UInt64(time.minute))
            guard minutesLeft != 0 else {
                time.startNextHour()
                continue
            }
            time.moveForward(minute: minutesLeft.trailingZeroBitCount)
            let secondsLeft = seconds & (UInt64.max << UInt64(time.second))
            guard secondsLeft != 0 else {
                time.startNextMinute()
                continue
            }
            time.second = secondsLeft.trailingZeroBitCount
            return time.seconds
        }
        return nil
    }

    /// The last fire time at or before `start`.
    func previousWallTime(atOrBefore start: Int64) -> Int64? {
        if let interval {
            let (quotient, remainder) = start.quotientAndRemainder(dividingBy: interval)
            let aligned = quotient * interval
            return remainder < 0 ? aligned - interval : aligned
        }
        var time = WallTime(start)
        while time.year >= Self.firstYear {
            if let years, !years.contains(time.year) {
                guard let previous = years.last(atOrBefore: time.year - 1) else { return nil }
                time.endYear(previous)
                continue
            }
            let monthsLeft = months & (UInt16.max >> UInt16(15 - time.month))
            guard monthsLeft != 0 else {
                time.endYear(time.year - 1)
                continue
            }
            time.moveBack(month: 15 - monthsLeft.leadingZeroBitCount)
            let daysLeft = dayMask(of: time) & (UInt32.max >> UInt32(31 - time.day))
            guard daysLeft != 0 else {
                time.endPreviousMonth()
                continue
            }
            time.moveBack(day: 31 - daysLeft.leadingZeroBitCount)
            let hoursLeft = hours & (UInt64.max >> UInt64(63 - time.hour))
            guard hoursLeft != 0 else {
                time.endPreviousDay()
                continue
            }
            time.moveBack(hour: 63 - hoursLeft.leadingZeroBitCount)
            let minutesLeft = minutes & (UInt64.max >> UInt64(63 - time.minute))
            guard minutesLeft != 0 else {
                time.endPreviousHour()
                continue
            }
            time.moveBack(minute: 63 - minutesLeft.leadingZeroBitCount)
            let secondsLeft = seconds & (UInt64.max >> UInt64(63 - time.second))
            guard secondsLeft != 0 else {
                time.endPreviousMinute()
                continue
            }
            time.second = 63 - secondsLeft.leadingZeroBitCount
            return time.seconds
        }
        return nil
    }

    /// The fire days of the month `time` is in.
    @inline(__always)
    private func dayMask(of time: WallTime) -> UInt32 {
        let firstWeekday = CivilTime.weekday(days: CivilTime.days(year: time.year, month: time.month, day: 1))
        return dayMasks[firstWeekday * 4 + time.monthLength - 28]
    }
}

/// A wall-clock date and time being moved by a search: moving to a later (earlier) value of
/// a field resets the smaller fields to their first (last) value, and running past a field's
/// end carries into the next larger field.
struct WallTime {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int

    init(_ seconds: Int64) {
        let (days, secondOfDay) = CivilTime.split(seconds)
        (year, month, day) = CivilTime.date(days: days)
        hour = secondOfDay / 3600
        minute = secondOfDay / 60 % 60
        second = secondOfDay % 60
    }

    var seconds: Int64 {
        CivilTime.seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    var monthLength: Int { CivilTime.daysInMonth(year: year, month: month) }

    // MARK: Forward

    mutating func startYear(_ year: Int) {
        (self.year, month, day, hour, minute, second) = (year, 1, 1, 0, 0, 0)
    }

    mutating func startNextMonth() {
        if month == 12 { startYear(year + 1) } else { (month, day, hour, minute, second) = (month + 1, 1, 0, 0, 0) }
    }

    mutating func startNextDay() {
        if day == monthLength { startNextMonth() } else { (day, hour, minute, second) = (day + 1, 0, 0, 0) }
    }

    mutating func startNextHour() {
        if hour == 23 { startNextDay() } else { (hour, minute, second) = (hour + 1, 0, 0) }
    }

    mutating func startNextMinute() {
        if minute == 59 { startNextHour() } else { (minute, second) = (minute + 1, 0) }
    }

    mutating func moveForward(month: Int) {
        if month != self.month { (self.month, day, hour, minute, second) = (month, 1, 0, 0, 0) }
    }

    mutating func moveForward(day: Int) {
        if day != self.day { (self.day, hour, minute, second) = (day, 0, 0, 0) }
    }

    mutating func moveForward(hour: Int) {
        if hour != self.hour { (self.hour, minute, second) = (hour, 0, 0) }
    }

    mutating func moveForward(minute: Int) {
        if minute != self.minute { (self.minute, second) = (minute, 0) }
    }

    // MARK: Backward

    mutating func endYear(_ year: Int) {
        (self.year, month, day, hour, minute, second) = (year, 12, 31, 23, 59, 59)
    }

    mutating func endPreviousMonth() {
        if month == 1 {
            endYear(year - 1)
        } else {
            month -= 1
            (day, hour, minute, second) = (monthLength, 23, 59, 59)
        }
    }

    mutating func endPreviousDay() {
        if day == 1 { endPreviousMonth() } else { (day, hour, minute, second) = (day - 1, 23, 59, 59) }
    }

    mutating func endPreviousHour() {
        if hour == 0 { endPreviousDay() } else { (hour, minute, second) = (hour - 1, 59, 59) }
    }

    mutating func endPreviousMinute() {
        if minute == 0 { endPreviousHour() } else { (minute, second) = (minute - 1, 59) }
    }

    mutating func moveBack(month: Int) {
        if month != self.month {
            self.month = month
            (day, hour, minute, second) = (monthLength, 23, 59, 59)
        }
    }

    mutating func moveBack(day: Int) {
        if day != self.day { (self.day, hour, minute, second) = (day, 23, 59, 59) }
    }

    mutating func moveBack(hour: Int) {
        if hour != self.hour { (self.hour, minute, second) = (hour, 59, 59) }
    }

    mutating func moveBack(minute: Int) {
        if minute != self.minute { (self.minute, second) = (minute, 59) }
    }
}
