/// Plain-English descriptions of cron expressions.
extension CronExpression {
    /// What the expression means, in English: `30 2 * * 5L` → "at 02:30 on the last Friday of
    /// every month".
    public var englishDescription: String {
        if let interval {
            return "every \(Self.duration(interval))"
        }
        var parts = [timePhrase]
        if let day = dayPhrase { parts.append(day) }
        if let month = monthPhrase(afterDays: dayPhrase != nil) { parts.append(month) }
        if let years {
            parts.append("in " + Self.list(Self.runs(years.years).map { $0.count == 1 ? "\($0[0])" : "\($0.first!)–\($0.last!)" }))
        }
        return parts.joined(separator: " ")
    }

    // MARK: Time of day

    private var timePhrase: String {
        let second = values(seconds, 0...59)
        let minute = values(minutes, 0...59)
        let hour = values(hours, 0...23)
        // A few exact times of day: "at 09:00 and 17:30".
        if second.count == 1, minute.count * hour.count <= 4 {
            let times = hour.flatMap { h in minute.map { m in Self.clock(h, m, hasSeconds ? second[0] : nil) } }
            return "at " + Self.list(times)
        }
        var phrase: String
        if hasSeconds && second.count != 1 {
            phrase = unitPhrase(second, 0...59, field: .second, unit: "second")
            if minute.count != 60 {
                phrase += " of " + unitPhrase(minute, 0...59, field: .minute, unit: "minute", leading: "minute")
            }
        } else {
            phrase = unitPhrase(minute, 0...59, field: .minute, unit: "minute", leading: "minute")
            if hasSeconds && second[0] != 0 { phrase += " at second \(second[0])" }
        }
        if !phrase.hasPrefix("every") { phrase = "at " + phrase }
        if hour.count == 24 {
            return phrase.hasPrefix("every") && minute.count == 60 || phrase.hasPrefix("every") && !hasSeconds
                ? phrase : phrase + " of every hour"
        }
        return phrase + " past " + unitPhrase(hour, 0...23, field: .hour, unit: "hour", leading: "hour")
    }

    /// "every minute", "every 5 minutes", "minutes 0, 15 and 45", "minutes 10 through 20".
    private func unitPhrase(_ values: [Int], _ range: ClosedRange<Int>, field: CronField, unit: String, leading: String? = nil) -> String {
        if values.count == range.count { return "every \(unit)" }
        if let step = step(of: values, in: range) {
            return "every \(step) \(unit)s"
        }
        let noun = leading ?? unit
        if values.count == 1 { return "\(noun) \(values[0])" }
        return "\(noun)s " + Self.list(Self.runs(values).map(Self.range))
    }

    /// The step of values evenly spaced from the field's start (`*/n`), if they are.
    private func step(of values: [Int], in range: ClosedRange<Int>) -> Int? {
        guard values.count > 1, values[0] == range.lowerBound else { return nil }
        let step = values[1] - values[0]
        guard step > 1, values == Array(stride(from: range.lowerBound, through: range.upperBound, by: step)) else { return nil }
        return step
    }

    // MARK: Days

    private var dayPhrase: String? {
        let monthDay = monthDayPhrase
        let weekday = weekdayPhrase
        switch (monthDay, weekday) {
        case (nil, nil): return nil
        case (let day?, nil): return "on \(day)"
        case (nil, let week?): return "on \(week)"
        case (let day?, let week?):
            return days.isOr ? "on \(day) or on \(week)" : "on \(day) if it is \(week)"
        }
    }

    private var monthDayPhrase: String? {
        if let nearest = days.nearestWeekday { return "the weekday nearest day \(nearest)" }
        if days.lastWeekdayOfMonth { return "the last weekday" }
        guard !days.monthDayIsStar else { return nil }
        var items: [String] = []
        let daysOfMonth = values(UInt64(days.monthDays), 1...31)
        if daysOfMonth.count < 31 || days.lastDay {
            items += Self.runs(daysOfMonth).map { "day " + Self.range($0) }
        }
        if days.lastDay { items.append("the last day") }
        for offset in 0..<31 where days.daysBeforeLast & (1 << UInt32(offset)) != 0 {
            items.append(offset == 0 ? "the last day" : "\(offset) day\(offset == 1 ? "" : "s") before the last day")
        }
        return items.isEmpty ? nil : Self.list(items)
    }

    private var weekdayPhrase: String? {
        if days.hasNth {
            var items: [String] = []
            for weekday in 0..<7 {
                let wanted = days.nthWeekdays[weekday]
                for n in 1...5 where wanted & (1 << UInt8(n)) != 0 {
                    items.append("the \(Self.ordinal(n)) \(Self.weekdayNames[weekday])")
                }
                if wanted & NthWeekdays.last != 0 { items.append("the last \(Self.weekdayNames[weekday])") }
            }
            return Self.list(items)
        }
        guard !days.weekdayIsStar else { return nil }
        let weekdays = values(UInt64(days.weekdays), 0...6)
        guard weekdays.count < 7 else { return nil }
        return Self.list(Self.runs(weekdays).map { run in
            run.count > 2 ? "\(Self.weekdayNames[run.first!]) through \(Self.weekdayNames[run.last!])"
                : run.map { Self.weekdayNames[$0] }.joined(separator: " and ")
        })
    }

    // MARK: Months

    private func monthPhrase(afterDays: Bool) -> String? {
        let chosen = values(UInt64(months), 1...12)
        if chosen.count == 12 {
            return afterDays && (monthDayPhrase != nil || days.hasNth) ? "of every month" : nil
        }
        let names = Self.runs(chosen).map { run in
            run.count > 2 ? "\(Self.monthNames[run.first! - 1]) through \(Self.monthNames[run.last! - 1])"
                : run.map { Self.monthNames[$0 - 1] }.joined(separator: " and ")
        }
        return (afterDays ? "of " : "in ") + Self.list(names)
    }

    // MARK: Helpers

    private func values(_ bits: UInt64, _ range: ClosedRange<Int>) -> [Int] {
        range.filter { bits & (1 << UInt64($0)) != 0 }
    }

    private static let weekdayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    private static let monthNames = [
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ]

    private static func clock(_ hour: Int, _ minute: Int, _ second: Int?) -> String {
        let two = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(hour)):\(two(minute))" + (second.map { ":\(two($0))" } ?? "")
    }

    /// Consecutive values grouped: [1, 2, 3, 7] → [[1, 2, 3], [7]].
    static func runs(_ values: [Int]) -> [[Int]] {
        var runs: [[Int]] = []
        for value in values {
            if let last = runs.last?.last, last + 1 == value {
                runs[runs.count - 1].append(value)
            } else {
                runs.append([value])
            }
        }
        return runs
    }

    private static func range(_ run: [Int]) -> String {
        run.count > 2 ? "\(run.first!) through \(run.last!)" : run.map(String.init).joined(separator: " and ")
    }

    /// "a", "a and b", "a, b and c".
    static func list(_ items: [String]) -> String {
        guard items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + " and " + items.last!
    }

    private static func ordinal(_ n: Int) -> String {
        ["", "1st", "2nd", "3rd", "4th", "5th"][n]
    }

    private static func duration(_ seconds: Int64) -> String {
        let units: [(Int64, String)] = [(86_400, "day"), (3600, "hour"), (60, "minute"), (1, "second")]
        var rest = seconds
        var parts: [String] = []
        for (size, name) in units where rest >= size {
            let count = rest / size
            rest %= size
            parts.append("\(count) \(name)\(count == 1 ? "" : "s")")
        }
        return parts == ["1 second"] ? "second" : list(parts)
    }
}

