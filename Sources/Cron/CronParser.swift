/// Turns the text of a cron expression into a ``CronExpression``, following croniter 7.0's
/// expansion rules step by step (they decide odd cases such as `5-5`, `50-10` or `59/15`).
///
/// It works on the UTF-8 bytes of the lower-cased text, without allocating per field.
struct CronParser {
    let original: String
    let options: CronExpression.Options
    /// The text as parsed: ASCII letters lower-cased, nicknames expanded.
    private var bytes: [UInt8]
    /// Whether `bytes` came from a nickname (columns then point at the nickname).
    private var fromNickname = false

    init(text: String, options: CronExpression.Options) {
        self.original = text
        self.options = options
        self.bytes = text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
    }

    private static let nicknames: [(name: [UInt8], plain: [UInt8], hashed: [UInt8])] = [
        ("@midnight", "0 0 * * *", "h h(0-2) * * * h"),
        ("@hourly", "0 * * * *", "h * * * * h"),
        ("@daily", "0 0 * * *", "h h * * * h"),
        ("@weekly", "0 0 * * 0", "h h * * h h"),
        ("@monthly", "0 0 1 * *", "h h h * * h"),
        ("@yearly", "0 0 1 1 *", "h h h h * h"),
        ("@annually", "0 0 1 1 *", "h h h h * h"),
    ].map { (Array($0.0.utf8), Array($0.1.utf8), Array($0.2.utf8)) }

    /// Parses into `expression`.
    mutating func parse(into expression: inout CronExpression) throws(CronParseError) {
        if bytes.first == UInt8(ascii: "@") {
            if let nickname = Self.nicknames.first(where: { $0.name == bytes }) {
                bytes = options.hashID != nil && options.hashesNicknames ? nickname.hashed : nickname.plain
                fromNickname = true
            } else if bytes.starts(with: "@every".utf8) {
                expression.interval = try EveryParser.parse(original)
                expression.hasSeconds = true
                return
            }
        }

        var tokens = tokenize()
        guard tokens.count >= 5, tokens.count <= 7 else {
            throw fieldCountError(tokens)
        }
        if tokens.count > 5, options.secondsFirst {
            tokens.insert(tokens.removeFirst(), at: CronField.second.rawValue)
        }

        let dayOfMonthHasStar = bytes[tokens[CronField.dayOfMonth.rawValue]].contains(UInt8(ascii: "*"))
        let dayOfWeekHasStar = bytes[tokens[CronField.dayOfWeek.rawValue]].contains(UInt8(ascii: "*"))
        var andDays = !options.dayOr
        var days = DayRule()
        var fieldTexts = Array(repeating: String?.none, count: 7)

        for (index, range) in tokens.enumerated() {
            let field = CronField(rawValue: index)!
            var fieldRange = range
            if field == .dayOfWeek, bytes[range.lowerBound] == UInt8(ascii: "+") {
                andDays = true  // extension: `+` ANDs the day fields
                fieldRange = range.dropFirst()
            }
            var values = try FieldValues(
                field: field, bytes: bytes[fieldRange], column: column(of: fieldRange.lowerBound), options: options,
                notes: &expression.notes
            )
            fieldTexts[index] = values.expandedText
            // A field naming every value becomes `*`, except a day field when the other day
            // field is written without any `*` (croniter: then the OR still applies).
            if values.namesEveryValue {
                let otherHasStar = field == .dayOfMonth ? dayOfWeekHasStar : dayOfMonthHasStar
                if !((field == .dayOfMonth || field == .dayOfWeek) && !otherHasStar) {
                    values.isStar = true
                }
            }
            values.store(into: &expression, days: &days)
        }
        expression.fieldTexts = CronExpression.FieldTexts(texts: fieldTexts)

        if days.hasNth {
            try checkNthMixing(days, token: tokens[CronField.dayOfWeek.rawValue], notes: &expression.notes)
        }
        days.isOr = !andDays && !days.monthDayIsStar && !days.weekdayIsStar
        expression.days = days
        expression.hasSeconds = tokens.count > 5
    }

    /// Plain weekdays beside `#`/`L` forms are refused, unless together they name the whole
    /// week (then croniter accepts and ignores the plain ones: its quirk Q20).
    private func checkNthMixing(_ days: DayRule, token: Range<Int>, notes: inout [CronLintWarning]) throws(CronParseError) {
        var nthWeekdays: UInt8 = 0
        for weekday in 0..<7 where days.nthWeekdays[weekday] != 0 {
            nthWeekdays |= 1 << UInt8(weekday)
        }
        let plain = days.weekdays & ~nthWeekdays
        guard plain != 0 else { return }
        let text = String(decoding: bytes[token], as: UTF8.self)
        guard days.weekdayIsStar || days.weekdays == 0x7F else {
            throw CronParseError(
                kind: .unsupportedSyntax, field: .dayOfWeek, token: text, column: column(of: token.lowerBound),
                reason: "plain weekdays cannot be mixed with '#' or 'L' forms"
            )
        }
        notes.append(CronLintWarning(
            code: .mixedNthFullWeek, field: .dayOfWeek, token: text,
            message: "the plain weekdays are ignored beside '#'/'L' forms: only those fire"
        ))
    }

    private func fieldCountError(_ tokens: [Range<Int>]) -> CronParseError {
        if tokens.count == 1, bytes[tokens[0].lowerBound] == UInt8(ascii: "@") {
            let token = String(decoding: bytes[tokens[0]], as: UTF8.self)
            let reason = token == "@reboot"
                ? "@reboot is not supported: it has no meaning for a task queue"
                : "unknown nickname (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>)"
            return CronParseError(kind: .badCron, field: nil, token: token, column: column(of: tokens[0].lowerBound), reason: reason)
        }
        return CronParseError(
            kind: .badCron, field: nil, token: original, column: 1,
            reason: "expected 5, 6 or 7 fields (minute hour day-of-month month day-of-week [second [year]]), found \(tokens.count)"
        )
    }

    /// The 1-based character column of a byte offset of the text.
    private func column(of offset: Int) -> Int {
        guard !fromNickname else { return 1 }
        return String(decoding: original.utf8.prefix(offset), as: UTF8.self).count + 1
    }

    /// The fields: runs of bytes between ASCII white space.
    private func tokenize() -> [Range<Int>] {
        var tokens: [Range<Int>] = []
        tokens.reserveCapacity(7)
        var start: Int?
        for index in bytes.indices {
            if Self.isSpace(bytes[index]) {
                if let tokenStart = start {
                    tokens.append(tokenStart..<index)
                    start = nil
                }
            } else if start == nil {
                start = index
            }
        }
        if let tokenStart = start {
            tokens.append(tokenStart..<bytes.count)
        }
        return tokens
    }

    /// ASCII white space, which separates fields (croniter's `\S+` in ASCII mode).
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    /// ``isSpace(_:)`` for characters.
    static func isASCIISpace(_ character: Character) -> Bool {
        character.asciiValue.map(isSpace) ?? false
    }
}

// MARK: - @every

/// `@every 1h30m`: a duration of whole seconds made of `<n>d`, `<n>h`, `<n>m`, `<n>s` parts.
private enum EveryParser {
    static func parse(_ text: String) throws(CronParseError) -> Int64 {
        let parts = text.split(whereSeparator: CronParser.isASCIISpace)
        let fail = { (reason: String) in
            CronParseError(kind: .badCron, field: nil, token: text, column: 1, reason: reason)
        }
        guard parts.count == 2, parts[0].lowercased() == "@every" else {
            throw fail("@every takes one duration, such as '@every 90s' or '@every 1h30m'")
        }
        var total: Int64 = 0
        var number: Int64?
        for character in parts[1].lowercased() {
            if let digit = character.wholeNumberValue, character.isASCII {
                let value = (number ?? 0) * 10 + Int64(digit)
                guard value <= 1_000_000_000 else { throw fail("the duration is too long") }
                number = value
                continue
            }
            let unit: Int64
            switch character {
            case "d": unit = 86_400
            case "h": unit = 3600
            case "m": unit = 60
            case "s": unit = 1
            default: throw fail("'\(character)' is not a duration unit (d, h, m, s)")
            }
            guard let value = number else { throw fail("a duration unit needs a number before it") }
            total += value * unit
            number = nil
        }
        guard number == nil else { throw fail("the duration's last number has no unit (d, h, m, s)") }
        guard total > 0 else { throw fail("the duration must be at least one second") }
        return total
    }
}

// MARK: - One field

/// The values of one field, expanded the way croniter does.
private struct FieldValues {
    let field: CronField
    var bits: UInt64 = 0
    var years = YearSet()
    var isStar = false
    var lastDay = false
    var daysBeforeLast: UInt32 = 0
    var nearestWeekday: Int?
    var lastWeekdayOfMonth = false
    var nthWeekdays = NthWeekdays()
    /// The field after `H`/`R` expansion.
    var expandedText: String

    /// The column of the item being parsed.
    private var currentColumn: Int

    init(
        field: CronField, bytes: ArraySlice<UInt8>, column: Int, options: CronExpression.Options,
        notes: inout [CronLintWarning]
    ) throws(CronParseError) {
        self.field = field
        self.currentColumn = column
        self.expandedText = String(decoding: bytes, as: UTF8.self)
        var text = bytes
        // Columns follow bytes one to one only for ASCII text that no expansion rewrote.
        var exact = bytes.allSatisfy { $0 < 0x80 }
        if let hashed = try expandHash(text, hashID: options.hashID, notes: &notes) {
            expandedText = hashed
            text = ArraySlice(hashed.utf8)
            exact = false
        }

        if text.contains(UInt8(ascii: "?")) {
            guard text.count == 1 else { throw error(.badCron, "'?' must be the whole field", token: text) }
            guard field == .dayOfMonth || field == .dayOfWeek else {
                throw error(.badCron, "'?' is only allowed in day-of-month and day-of-week", token: text)
            }
            text = ArraySlice("*".utf8)
            exact = false
        }

        // croniter works through a list from its end; so do we, to report the same first error.
        let itemCount = text.reduce(1) { $0 + ($1 == UInt8(ascii: ",") ? 1 : 0) }
        var end = text.endIndex
        while true {
            let start = text[..<end].lastIndex(of: UInt8(ascii: ",")).map { $0 + 1 } ?? text.startIndex
            currentColumn = exact ? column + (start - text.startIndex) : column
            try parseItem(text[start..<end], itemCount: itemCount, notes: &notes)
            guard start > text.startIndex else { break }
            end = start - 1
        }
    }

    /// Whether the field lists every value of its range.
    var namesEveryValue: Bool {
        guard !isStar else { return false }
        if field == .year { return years.count == field.range.count }
        return bits == UInt64.mask(field.range) && !lastDay && nearestWeekday == nil && daysBeforeLast == 0
            && !lastWeekdayOfMonth
    }

    func store(into expression: inout CronExpression, days: inout DayRule) {
        let bits = isStar ? UInt64.mask(field.range) : self.bits
        switch field {
        case .second: expression.seconds = bits
        case .minute: expression.minutes = bits
        case .hour:
            expression.hours = bits
            expression.hourIsWildcard = isStar
        case .month: expression.months = UInt16(truncatingIfNeeded: bits)
        case .year: expression.years = isStar ? nil : years
        case .dayOfMonth:
            days.monthDays = UInt32(truncatingIfNeeded: bits)
            days.monthDayIsStar = isStar
            days.lastDay = lastDay
            days.daysBeforeLast = daysBeforeLast
            days.nearestWeekday = nearestWeekday
            days.lastWeekdayOfMonth = lastWeekdayOfMonth
        case .dayOfWeek:
            days.weekdays = UInt8(truncatingIfNeeded: bits)
            days.weekdayIsStar = isStar
            days.nthWeekdays = nthWeekdays
        }
    }

    private func error(_ kind: CronParseError.Kind, _ reason: String, token: ArraySlice<UInt8>) -> CronParseError {
        CronParseError(kind: kind, field: field, token: String(decoding: token, as: UTF8.self), column: currentColumn, reason: reason)
    }

    private func notAlpha(_ item: ArraySlice<UInt8>) -> CronParseError {
        let names = field == .month ? " or a month name (jan…dec)" : field == .dayOfWeek ? " or a weekday name (sun…sat)" : ""
        return error(.notAlpha, "not a number\(names)", token: item)
    }

    // MARK: H and R

    /// `H`, `H(a-b)`, `H/n`, `H(a-b)/n` (and `R` forms) expanded with croniter's formula.
    private func expandHash(
        _ text: ArraySlice<UInt8>, hashID: String?, notes: inout [CronLintWarning]
    ) throws(CronParseError) -> String? {
        guard let first = text.first, first == UInt8(ascii: "h") || first == UInt8(ascii: "r") else { return nil }
        var rest = text.dropFirst()
        var bounds: (Int, Int)?
        if rest.first == UInt8(ascii: "(") {
            guard let close = rest.firstIndex(of: UInt8(ascii: ")")), let dash = rest[..<close].firstIndex(of: UInt8(ascii: "-")),
                let low = Int.ascii(rest[(rest.startIndex + 1)..<dash]), let high = Int.ascii(rest[(dash + 1)..<close])
            else { return nil }
            bounds = (low, high)
            rest = rest[(close + 1)...]
        }
        var divisor: Int?
        if rest.first == UInt8(ascii: "/") {
            guard let value = Int.ascii(rest.dropFirst()) else { return nil }
            divisor = value
            rest = rest[rest.endIndex...]
        }
        guard rest.isEmpty else { return nil }

        let crc: UInt32
        if first == UInt8(ascii: "r") {
            crc = UInt32.random(in: 0...UInt32.max)
            notes.append(CronLintWarning(
                code: .random, field: field, token: expandedText,
                message: "'R' draws a new random value each time the expression is parsed, so replicas disagree; use 'H'"
            ))
        } else {
            guard let hashID else {
                throw error(.badCron, "'H' needs a hash key (croniter's hash_id); periodic tasks use their name and periodic id", token: text)
            }
            crc = CRC32.checksum(hashID.utf8)
        }
        var low = field.range.lowerBound
        var high = field.range.upperBound
        if let (begin, end) = bounds {
            guard begin < end else { throw error(.badCron, "in H(a-b), a must be less than b", token: text) }
            for bound in [begin, end] where !field.range.contains(field == .dayOfWeek && bound == 7 ? 0 : bound) {
                throw error(.badCron, "H range bound \(bound) is outside \(field.range.lowerBound)-\(field.range.upperBound)", token: text)
            }
            low = begin
            high = end
        }
        let draw = { (low: Int, high: Int) in Int((crc >> UInt32(field.rawValue)) % UInt32(high - low + 1)) + low }
        guard let divisor else {
            return String(draw(low, high))
        }
        guard divisor > 0 else { throw error(.badCron, "the step must be at least 1", token: text) }
        let start = draw(low, min(low + divisor - 1, high))
        return start == high ? String(start) : "\(start)-\(high)/\(divisor)"
    }

    // MARK: Items

    private mutating func parseItem(_ item: ArraySlice<UInt8>, itemCount: Int, notes: inout [CronLintWarning]) throws(CronParseError) {
        if field == .dayOfWeek, try parseWeekdaySpecial(item, notes: &notes) {
            return
        }
        if field == .dayOfMonth, try parseMonthDaySpecial(item, itemCount: itemCount) {
            return
        }
        let isRange = try expandRange(item, notes: &notes) { (values, value) throws(CronParseError) in
            try values.insert(value, item: item)
        }
        guard !isRange else { return }
        switch try singleValue(item) {
        case .every: isStar = true
        case .lastDayOfMonth: lastDay = true
        case .value(let value): try insert(value, item: item)
        }
    }

    /// `d#n`, `name#n`, `mon-fri#n`, `Ld`, and the extensions `1-5#n`, `d#L`, `dL`.
    private mutating func parseWeekdaySpecial(_ item: ArraySlice<UInt8>, notes: inout [CronLintWarning]) throws(CronParseError) -> Bool {
        let base: ArraySlice<UInt8>
        let nth: UInt8
        if let hash = item.firstIndex(of: UInt8(ascii: "#")) {
            base = item[..<hash]
            let suffix = item[(hash + 1)...]
            if suffix.elementsEqual("l".utf8) {
                nth = NthWeekdays.last
            } else if let n = Int.ascii(suffix) {
                guard (1...5).contains(n) else { throw error(.badCron, "the nth weekday must be 1 to 5", token: item) }
                nth = 1 << UInt8(n)
            } else {
                throw notAlpha(item)
            }
            guard Self.isNthBase(base) else { throw notAlpha(item) }
        } else if item.count > 1, item.first == UInt8(ascii: "l"), Int.ascii(item.dropFirst()) != nil {
            base = item.dropFirst()
            nth = NthWeekdays.last
        } else if item.count > 1, item.last == UInt8(ascii: "l"), Int.ascii(item.dropLast()) != nil {
            base = item.dropLast()  // extension: `5L`, the last Friday
            nth = NthWeekdays.last
        } else {
            return false
        }
        let isRange = try expandRange(base, notes: &notes) { (values, weekday) throws(CronParseError) in
            try values.insert(weekday, item: item)
            values.nthWeekdays[weekday] |= nth
        }
        if !isRange {
            guard case .value(let weekday) = try singleValue(base) else { throw notAlpha(item) }
            try insert(weekday, item: item)
            nthWeekdays[weekday] |= nth
        }
        return true
    }

    /// What may stand before `#`: a word (croniter's `\w+`), a name range, or (extension) a
    /// number range.
    private static func isNthBase(_ base: ArraySlice<UInt8>) -> Bool {
        guard !base.isEmpty else { return false }
        if base.allSatisfy({ $0.isASCIIWordByte }) { return true }
        guard let dash = base.firstIndex(of: UInt8(ascii: "-")) else { return false }
        let low = base[..<dash]
        let high = base[(dash + 1)...]
        let isName = { (part: ArraySlice<UInt8>) in
            CronField.weekdayNames.contains { $0.utf8.elementsEqual(part) } || CronField.monthNames.contains { $0.utf8.elementsEqual(part) }
        }
        return (isName(low) && isName(high)) || (Int.ascii(low) != nil && Int.ascii(high) != nil)
    }

    /// `nW`, `Wn`, and the extensions `LW` and `L-n`.
    private mutating func parseMonthDaySpecial(_ item: ArraySlice<UInt8>, itemCount: Int) throws(CronParseError) -> Bool {
        if item.elementsEqual("lw".utf8) {
            guard itemCount == 1 else { throw error(.badCron, "'LW' must be the whole field", token: item) }
            lastWeekdayOfMonth = true
            return true
        }
        if item.starts(with: "l-".utf8) {
            guard let offset = Int.ascii(item.dropFirst(2)), offset < 31 else {
                throw error(.badCron, "'L-n' needs n from 0 to 30 (days before the last)", token: item)
            }
            daysBeforeLast |= 1 << UInt32(offset)
            return true
        }
        let digits: ArraySlice<UInt8>
        if item.count > 1, item.last == UInt8(ascii: "w") {
            digits = item.dropLast()
        } else if item.count > 1, item.first == UInt8(ascii: "w") {
            digits = item.dropFirst()
        } else {
            return false
        }
        guard let day = Int.ascii(digits) else { return false }
        guard (1...31).contains(day) else { throw error(.badCron, "the day of 'W' must be 1 to 31", token: item) }
        guard itemCount == 1 else { throw error(.badCron, "'W' takes a single day, not a list or a range", token: item) }
        nearestWeekday = day
        bits |= 1 << UInt64(day)
        return true
    }

    /// A range item: `low-high` and an optional step.
    private struct RangeItem {
        var low: ArraySlice<UInt8>
        var high: ArraySlice<UInt8>
        var step: Int
        /// Written `a/s` (no high bound).
        var startWithStep = false
    }

    /// Calls `body` with each value of a range item (`a-b`, `a-b/s`, `*/s` or `a/s`); returns
    /// false when `item` is not one.
    private mutating func expandRange(
        _ item: ArraySlice<UInt8>, notes: inout [CronLintWarning], _ body: (inout FieldValues, Int) throws(CronParseError) -> Void
    ) throws(CronParseError) -> Bool {
        guard let parsed = try rangeItem(item) else { return false }
        let range = field.range
        let low = try bound(parsed.low, item: item)
        let high = try bound(field == .dayOfMonth && parsed.high.elementsEqual("l".utf8) ? ArraySlice("31".utf8) : parsed.high, item: item)
        let step = parsed.step
        guard max(low, high) <= range.upperBound else {
            throw error(.badCron, "\(max(low, high)) is beyond the field's maximum \(range.upperBound)", token: item)
        }
        let itemText = { String(decoding: item, as: UTF8.self) }

        if parsed.startWithStep && low == high {
            notes.append(CronLintWarning(
                code: .maxStartStep, field: field, token: itemText(),
                message: "'\(itemText())' starts at the field's maximum, so it means only \(low) (croniter 7; older versions read the whole field)"
            ))
            try body(&self, low)
            return true
        }
        if low == high {
            notes.append(CronLintWarning(
                code: .equalRange, field: field, token: itemText(),
                message: "'\(itemText())' is an equal range, which croniter reads as the whole \(field) cycle, not the single value \(low)"
            ))
            for value in stride(from: range.lowerBound, through: range.upperBound, by: step) { try body(&self, value) }
            return true
        }
        if item.first == UInt8(ascii: "*"), step > 1, range.count % step != 0, field != .year, field != .dayOfMonth {
            let last = range.lowerBound + (range.count - 1) / step * step
            notes.append(CronLintWarning(
                code: .unevenStep, field: field, token: itemText(),
                message: "\(step) does not divide \(range.count): the gap from \(last) back to \(range.lowerBound) is \(range.upperBound + 1 - last), not \(step)"
            ))
        }
        guard low > high else {
            for value in stride(from: low, through: high, by: step) { try body(&self, value) }
            return true
        }
        notes.append(CronLintWarning(
            code: .wrappingRange, field: field, token: itemText(),
            message: "'\(itemText())' wraps around the end of the \(field) field (croniter's reading; most crons reject it)"
        ))
        // croniter's wrap: low…max, then min…high, the step carried across when it fits.
        for value in stride(from: low, through: range.upperBound, by: step) { try body(&self, value) }
        let last = low + (range.upperBound - low) / step * step
        let skippedAtEnd = range.upperBound - last
        let skip = last - range.lowerBound + step > range.count && skippedAtEnd < step ? step - skippedAtEnd : 0
        for value in stride(from: range.lowerBound + skip, through: high, by: step) { try body(&self, value) }
        return true
    }

    /// Reads a range item as croniter does: `*/s` is `min-max/s`, `a/s` is `a-max/s`, then
    /// `^([^-]+)-([^-/]+)(/(\d+))?$`.
    private func rangeItem(_ item: ArraySlice<UInt8>) throws(CronParseError) -> RangeItem? {
        if item.first == UInt8(ascii: "*"), item.dropFirst().first == UInt8(ascii: "/") {
            guard let step = try step(item.dropFirst(2), item: item) else { return nil }
            return RangeItem(low: ArraySlice(String(field.range.lowerBound).utf8), high: ArraySlice(String(field.range.upperBound).utf8), step: step)
        }
        if let dash = item.firstIndex(of: UInt8(ascii: "-")), dash != item.startIndex {
            let rest = item[(dash + 1)...]
            let slash = rest.firstIndex(of: UInt8(ascii: "/"))
            let high = rest[..<(slash ?? rest.endIndex)]
            if !high.isEmpty, !high.contains(UInt8(ascii: "-")) {
                guard let slash else { return RangeItem(low: item[..<dash], high: high, step: 1) }
                if Int.ascii(rest[(slash + 1)...]) != nil, let step = try step(rest[(slash + 1)...], item: item) {
                    return RangeItem(low: item[..<dash], high: high, step: step)
                }
            }
        }
        // `a/s`: the last slash splits, and the start may not itself hold a dash (then the
        // rewritten `a-max/s` has two and croniter's pattern fails).
        guard let slash = item.lastIndex(of: UInt8(ascii: "/")), slash != item.startIndex, slash + 1 != item.endIndex else {
            return nil
        }
        let low = item[..<slash]
        guard !low.contains(UInt8(ascii: "-")), let step = try step(item[(slash + 1)...], item: item) else { return nil }
        return RangeItem(low: low, high: ArraySlice(String(field.range.upperBound).utf8), step: step, startWithStep: true)
    }

    /// A step: ASCII digits, at least 1; nil when not digits.
    private func step(_ text: ArraySlice<UInt8>, item: ArraySlice<UInt8>) throws(CronParseError) -> Int? {
        guard let step = Int.ascii(text) else { return nil }
        guard step > 0 else { throw error(.badCron, "the step must be at least 1", token: item) }
        return step
    }

    /// A range bound: a number or a name, Sunday 7 read as 0.
    private func bound(_ text: ArraySlice<UInt8>, item: ArraySlice<UInt8>) throws(CronParseError) -> Int {
        if let number = Int.ascii(text) {
            return field == .dayOfWeek && number == 7 ? 0 : number
        }
        if let value = field.value(forName: text) {
            return value
        }
        if field == .dayOfMonth, text.elementsEqual("l".utf8) {
            throw error(.badCron, "a range bound must be a number or a name ('L' can only end a range)", token: item)
        }
        throw notAlpha(item)
    }

    /// What a single item stands for.
    private enum Single {
        case every
        case lastDayOfMonth
        case value(Int)
    }

    /// A single item: a number, a name, `*`, or `L` in day-of-month.
    private func singleValue(_ item: ArraySlice<UInt8>) throws(CronParseError) -> Single {
        if item.elementsEqual("*".utf8) { return .every }
        if field == .dayOfMonth, item.elementsEqual("l".utf8) { return .lastDayOfMonth }
        if item.first == UInt8(ascii: "-") {
            throw error(.badCron, "negative numbers are not allowed", token: item)
        }
        var value: Int
        if let number = Int.ascii(item) {
            value = number
        } else if let named = field.value(forName: item) {
            value = named
        } else {
            throw notAlpha(item)
        }
        if field == .dayOfWeek, value == 7 { value = 0 }
        return .value(value)
    }

    private mutating func insert(_ value: Int, item: ArraySlice<UInt8>) throws(CronParseError) {
        guard field.range.contains(value) else {
            throw error(.badCron, "\(value) is outside \(field.range.lowerBound)-\(field.range.upperBound)", token: item)
        }
        if field == .year {
            years.insert(value)
        } else {
            bits |= 1 << UInt64(value)
        }
    }
}

extension UInt8 {
    /// A byte of croniter's `\w` (ASCII letters, digits, `_`).
    fileprivate var isASCIIWordByte: Bool {
        (self >= 0x30 && self <= 0x39) || (self >= 0x61 && self <= 0x7A) || (self >= 0x41 && self <= 0x5A) || self == 0x5F
    }
}

extension Int {
    /// The value of a non-empty run of ASCII digits (nil otherwise, or on overflow).
    static func ascii<Bytes: Collection>(_ bytes: Bytes) -> Int? where Bytes.Element == UInt8 {
        guard !bytes.isEmpty else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= 48, byte <= 57 else { return nil }
            let (multiplied, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (added, overflow2) = multiplied.addingReportingOverflow(Int(byte - 48))
            guard !overflow1, !overflow2 else { return nil }
            value = added
        }
        return value
    }

    /// The value of a non-empty string of ASCII digits.
    static func ascii<S: StringProtocol>(_ text: S) -> Int? {
        ascii(text.utf8)
    }
}

extension UInt64 {
    /// Bits `range.lowerBound` through `range.upperBound` set.
    static func mask(_ range: ClosedRange<Int>) -> UInt64 {
        guard range.upperBound < 64 else { return ~0 }
        return (UInt64(1) << UInt64(range.upperBound + 1)) - (UInt64(1) << UInt64(range.lowerBound))
    }
}
