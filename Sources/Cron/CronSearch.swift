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
        let (startDay, secondOfDay) = CivilTime.split(start)
        var (year, month, day) = CivilTime.date(days: startDay)
        var hour = secondOfDay / 3600
        var minute = secondOfDay / 60 % 60
        var second = secondOfDay % 60

        while year <= Self.lastYear {
            if let years, !years.contains(year) {
                guard let next = years.first(atOrAfter: year + 1) else { return nil }
                (year, month, day, hour, minute, second) = (next, 1, 1, 0, 0, 0)
                continue
            }
            let monthsLeft = months & (UInt16.max << UInt16(month))
            guard monthsLeft != 0 else {
                (year, month, day, hour, minute, second) = (year + 1, 1, 1, 0, 0, 0)
                continue
            }
            let nextMonth = monthsLeft.trailingZeroBitCount
            if nextMonth != month {
                (month, day, hour, minute, second) = (nextMonth, 1, 0, 0, 0)
            }
            let length = CivilTime.daysInMonth(year: year, month: month)
            let firstWeekday = CivilTime.weekday(days: CivilTime.days(year: year, month: month, day: 1))
            let daysLeft = dayMasks[firstWeekday * 4 + length - 28] & (UInt32.max << UInt32(day))
            guard daysLeft != 0 else {
                (day, hour, minute, second) = (1, 0, 0, 0)
                if month == 12 { (year, month) = (year + 1, 1) } else { month += 1 }
                continue
            }
            let nextDay = daysLeft.trailingZeroBitCount
            if nextDay != day {
                (day, hour, minute, second) = (nextDay, 0, 0, 0)
            }
            let hoursLeft = hours & (UInt64.max << UInt64(hour))
            guard hoursLeft != 0 else {
                (hour, minute, second) = (0, 0, 0)
                day += 1
                if day > length {
                    day = 1
                    if month == 12 { (year, month) = (year + 1, 1) } else { month += 1 }
                }
                continue
            }
            let nextHour = hoursLeft.trailingZeroBitCount
            if nextHour != hour {
                (hour, minute, second) = (nextHour, 0, 0)
            }
            let minutesLeft = minutes & (UInt64.max << UInt64(minute))
            guard minutesLeft != 0 else {
                (minute, second) = (0, 0)
                hour += 1
                if hour == 24 {
                    hour = 0
                    day += 1
                    if day > length {
                        day = 1
                        if month == 12 { (year, month) = (year + 1, 1) } else { month += 1 }
                    }
                }
                continue
            }
            let nextMinute = minutesLeft.trailingZeroBitCount
            if nextMinute != minute {
                (minute, second) = (nextMinute, 0)
            }
            let secondsLeft = seconds & (UInt64.max << UInt64(second))
            guard secondsLeft != 0 else {
                second = 0
                minute += 1
                if minute == 60 {
                    minute = 0
                    hour += 1
                    if hour == 24 {
                        hour = 0
                        day += 1
                        if day > length {
                            day = 1
                            if month == 12 { (year, month) = (year + 1, 1) } else { month += 1 }
                        }
                    }
                }
                continue
            }
            second = secondsLeft.trailingZeroBitCount
            return CivilTime.seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
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
        let (startDay, secondOfDay) = CivilTime.split(start)
        var (year, month, day) = CivilTime.date(days: startDay)
        var hour = secondOfDay / 3600
        var minute = secondOfDay / 60 % 60
        var second = secondOfDay % 60

        while year >= Self.firstYear {
            if let years, !years.contains(year) {
                guard let previous = years.last(atOrBefore: year - 1) else { return nil }
                (year, month, day, hour, minute, second) = (previous, 12, 31, 23, 59, 59)
                continue
            }
            let monthsLeft = months & (UInt16.max >> UInt16(15 - month))
            guard monthsLeft != 0 else {
                (year, month, day, hour, minute, second) = (year - 1, 12, 31, 23, 59, 59)
                continue
            }
            let previousMonth = 15 - monthsLeft.leadingZeroBitCount
            let length = CivilTime.daysInMonth(year: year, month: previousMonth)
            if previousMonth != month {
                (month, day, hour, minute, second) = (previousMonth, length, 23, 59, 59)
            }
            let firstWeekday = CivilTime.weekday(days: CivilTime.days(year: year, month: month, day: 1))
            let daysLeft = dayMasks[firstWeekday * 4 + length - 28] & (UInt32.max >> UInt32(31 - day))
            guard daysLeft != 0 else {
                if month == 1 { (year, month) = (year - 1, 12) } else { month -= 1 }
                (day, hour, minute, second) = (CivilTime.daysInMonth(year: year, month: month), 23, 59, 59)
                continue
            }
            let previousDay = 31 - daysLeft.leadingZeroBitCount
            if previousDay != day {
                (day, hour, minute, second) = (previousDay, 23, 59, 59)
            }
            let hoursLeft = hours & (UInt64.max >> UInt64(63 - hour))
            guard hoursLeft != 0 else {
                (hour, minute, second) = (23, 59, 59)
                day -= 1
                if day == 0 {
                    if month == 1 { (year, month) = (year - 1, 12) } else { month -= 1 }
                    day = CivilTime.daysInMonth(year: year, month: month)
                }
                continue
            }
            let previousHour = 63 - hoursLeft.leadingZeroBitCount
            if previousHour != hour {
                (hour, minute, second) = (previousHour, 59, 59)
            }
            let minutesLeft = minutes & (UInt64.max >> UInt64(63 - minute))
            guard minutesLeft != 0 else {
                (minute, second) = (59, 59)
                hour -= 1
                if hour < 0 {
                    hour = 23
                    day -= 1
                    if day == 0 {
                        if month == 1 { (year, month) = (year - 1, 12) } else { month -= 1 }
                        day = CivilTime.daysInMonth(year: year, month: month)
                    }
                }
                continue
            }
            let previousMinute = 63 - minutesLeft.leadingZeroBitCount
            if previousMinute != minute {
                (minute, second) = (previousMinute, 59)
            }
            let secondsLeft = seconds & (UInt64.max >> UInt64(63 - second))
            guard secondsLeft != 0 else {
                second = 59
                minute -= 1
                if minute < 0 {
                    minute = 59
                    hour -= 1
                    if hour < 0 {
                        hour = 23
                        day -= 1
                        if day == 0 {
                            if month == 1 { (year, month) = (year - 1, 12) } else { month -= 1 }
                            day = CivilTime.daysInMonth(year: year, month: month)
                        }
                    }
                }
                continue
            }
            second = 63 - secondsLeft.leadingZeroBitCount
            return CivilTime.seconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        }
        return nil
    }
}
