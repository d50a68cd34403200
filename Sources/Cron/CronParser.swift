/// Turns the text of a cron expression into a ``CronExpression``, following croniter 7.0's
/// expansion rules step by step (they decide odd cases such as `5-5`, `50-10` or `59/15`).
struct CronParser {
    let original: String
    let options: CronExpression.Options
    /// The text as parsed: lower-cased, nicknames expanded.
    private var text: String
    /// Whether `text` came from a nickname (columns then point at the nickname).
    private var fromNickname = false

    init(text: String, options: CronExpression.Options) {
        self.original = text
        self.options = options
        self.text = Self.lowercasedASCII(text)
    }

    private static let nicknames: [String: (plain: String, hashed: String)] = [
        "@midnight": ("0 0 * * *", "h h(0-2) * * * h"),
        "@hourly": ("0 * * * *", "h * * * * h"),
        "@daily": ("0 0 * * *", "h h * * * h"),
        "@weekly": ("0 0 * * 0", "h h * * h h"),
        "@monthly": ("0 0 1 * *", "h h h * * h"),
        "@yearly": ("0 0 1 1 *", "h h h h * h"),
        "@annually": ("0 0 1 1 *", "h h h h * h"),
    ]

    /// A field's token and where it starts (1-based column).
    private struct Token {
        var text: Substring
        var column: Int
    }

    /// Parses into `expression`.
    mutating func parse(into expression: inout CronExpression) throws(CronParseError) {
        if let nickname = Self.nicknames[text] {
            text = options.hashID == nil ? nickname.plain : nickname.hashed
            fromNickname = true
        } else if text.hasPrefix("@every") {
            expression.interval = try Self.parseEvery(original)
            expression.hasSeconds = true
            return
        }

        var tokens = tokenize()
        guard [5, 6, 7].contains(tokens.count) else {
            if tokens.count == 1, tokens[0].text.hasPrefix("@") {
                let reason = tokens[0].text == "@reboot"
                    ? "@reboot is not supported: it has no meaning for a task queue"
                    : "unknown nickname (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>)"
                throw CronParseError(kind: .badCron, field: nil, token: String(tokens[0].text), column: tokens[0].column, reason: reason)
            }
            throw CronParseError(
                kind: .badCron, field: nil, token: original, column: 1,
                reason: "expected 5, 6 or 7 fields (minute hour day-of-month month day-of-week [second [year]]), found \(tokens.count)"
            )
        }
        if tokens.count > 5, options.secondsFirst {
            tokens.insert(tokens.removeFirst(), at: CronField.second.rawValue)
        }

        let rawDayOfMonth = tokens[CronField.dayOfMonth.rawValue].text
        let rawDayOfWeek = tokens[CronField.dayOfWeek.rawValue].text
        var andDays = !options.dayOr
        var days = DayRule()

        for (index, token) in tokens.enumerated() {
            let field = CronField(rawValue: index)!
            var fieldText = token.text
            if field == .dayOfWeek, fieldText.hasPrefix("+") {
                andDays = true  // extension: `+` ANDs the day fields
                fieldText = fieldText.dropFirst()
            }
            var values = try FieldValues(
                field: field, token: (fieldText, token.column), options: options, notes: &expression.notes
            )
            expression.fieldTexts[field] = values.expandedText
            // A field naming every value becomes `*`, except a day field when the other day
            // field is written without any `*` (croniter: then the OR still applies).
            if values.names(allOf: field) {
                let other = field == .dayOfMonth ? rawDayOfWeek : rawDayOfMonth
                if !((field == .dayOfMonth || field == .dayOfWeek) && !other.contains("*")) {
                    values.isStar = true
                }
            }
            try store(values, of: field, token: token, into: &expression, days: &days)
        }

        if days.hasNth {
            // Plain weekdays beside `#`/`L` forms are refused, unless together they name the
            // whole week (then croniter accepts and ignores the plain ones: its quirk Q20).
            let plain = days.weekdays & ~UInt8(days.nthWeekdays.enumerated().reduce(0) { $0 | ($1.element != 0 ? 1 << $1.offset : 0) })
            if plain != 0 && !days.weekdayIsStar && days.weekdays != 0x7F {
                let token = tokens[CronField.dayOfWeek.rawValue]
                throw CronParseError(
                    kind: .unsupportedSyntax, field: .dayOfWeek, token: String(token.text), column: token.column,
                    reason: "plain weekdays cannot be mixed with '#' or 'L' forms"
                )
            }
            if plain != 0 {
                expression.notes.append(CronLintWarning(
                    code: .mixedNthFullWeek, field: .dayOfWeek, token: String(tokens[CronField.dayOfWeek.rawValue].text),
                    message: "the plain weekdays are ignored beside '#'/'L' forms: only those fire"
                ))
            }
        }
        days.isOr = !andDays && !days.monthDayIsStar && !days.weekdayIsStar
        expression.days = days
        expression.hasSeconds = tokens.count > 5
    }

    private func store(
        _ values: FieldValues, of field: CronField, token: Token, into expression: inout CronExpression, days: inout DayRule
    ) throws(CronParseError) {
        let all = UInt64.mask(field.range)
        let bits = values.isStar ? all : values.bits
        switch field {
        case .second: expression.seconds = bits
        case .minute: expression.minutes = bits
        case .hour:
            expression.hours = bits
            expression.hourIsWildcard = values.isStar
        case .month: expression.months = UInt16(truncatingIfNeeded: bits)
        case .year:
            if !values.isStar {
                var years = YearSet()
                for year in values.years { years.insert(year) }
                expression.years = years
            }
        case .dayOfMonth:
            days.monthDays = UInt32(truncatingIfNeeded: bits)
            days.monthDayIsStar = values.isStar
            days.lastDay = values.lastDay
            days.daysBeforeLast = values.daysBeforeLast
            days.nearestWeekday = values.nearestWeekday
            days.lastWeekdayOfMonth = values.lastWeekdayOfMonth
        case .dayOfWeek:
            days.weekdays = UInt8(truncatingIfNeeded: bits)
            days.weekdayIsStar = values.isStar
            days.nthWeekdays = values.nthWeekdays
        }
    }

    // MARK: Tokens

    private func tokenize() -> [Token] {
        var tokens: [Token] = []
        var start: String.Index?
        var column = 0
        var startColumn = 0
        for index in text.indices {
            column += 1
            let isSpace = Self.isASCIISpace(text[index])
            if isSpace, let tokenStart = start {
                tokens.append(Token(text: text[tokenStart..<index], column: fromNickname ? 1 : startColumn))
                start = nil
            } else if !isSpace, start == nil {
                start = index
                startColumn = column
            }
        }
        if let tokenStart = start {
            tokens.append(Token(text: text[tokenStart...], column: fromNickname ? 1 : startColumn))
        }
        return tokens
    }

    static func isASCIISpace(_ character: Character) -> Bool {
        character == " " || character == "\t" || character == "\n" || character == "\r"
            || character == "\u{0B}" || character == "\u{0C}"
    }

    private static func lowercasedASCII(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            scalar.value >= 65 && scalar.value <= 90 ? Unicode.Scalar(scalar.value + 32)! : scalar
        }))
    }

    // MARK: @every

    /// `@every 1h30m`: a duration of whole seconds made of `<n>d`, `<n>h`, `<n>m`, `<n>s` parts.
    private static func parseEvery(_ text: String) throws(CronParseError) -> Int64 {
        let parts = text.split(whereSeparator: isASCIISpace)
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
                number = (number ?? 0) * 10 + Int64(digit)
                if number! > 1_000_000_000 { throw fail("the duration is too long") }
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
    var years: [Int] = []
    var isStar = false
    var lastDay = false
    var daysBeforeLast: UInt32 = 0
    var nearestWeekday: Int?
    var lastWeekdayOfMonth = false
    var nthWeekdays: [UInt8] = Array(repeating: 0, count: 7)
    /// The field after `H`/`R` expansion.
    var expandedText: String

    private let token: Substring
    /// The column of the item being parsed (of the field when it was rewritten by `H` or `?`).
    private var currentColumn: Int
    private let options: CronExpression.Options

    init(
        field: CronField, token: (text: Substring, column: Int), options: CronExpression.Options,
        notes: inout [CronLintWarning]
    ) throws(CronParseError) {
        self.field = field
        self.token = token.text
        self.currentColumn = token.column
        self.options = options
        var text = String(token.text)
        expandedText = text
        if let hashed = try expandHash(text, notes: &notes) {
            text = hashed
        }
        expandedText = text

        if text.contains("?") {
            guard text == "?" else { throw error(.badCron, "'?' must be the whole field") }
            guard field == .dayOfMonth || field == .dayOfWeek else {
                throw error(.badCron, "'?' is only allowed in day-of-month and day-of-week")
            }
            text = "*"
        }
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        // croniter works through a list from its end; so do we, to report the same first error.
        for item in items.reversed() {
            if text == token.text {
                currentColumn = token.column + text.distance(from: text.startIndex, to: item.startIndex)
            }
            try parseItem(item, itemCount: items.count, notes: &notes)
        }
    }

    /// Whether the field lists every value of its range.
    func names(allOf field: CronField) -> Bool {
        guard !isStar else { return false }
        if field == .year { return years.count == field.range.count }
        return bits == UInt64.mask(field.range) && !lastDay && nearestWeekday == nil && daysBeforeLast == 0
            && !lastWeekdayOfMonth
    }

    private func error(_ kind: CronParseError.Kind, _ reason: String, token: Substring? = nil) -> CronParseError {
        CronParseError(kind: kind, field: field, token: String(token ?? self.token), column: currentColumn, reason: reason)
    }

    private func notAlpha(_ item: Substring) -> CronParseError {
        let names = field == .month ? " or a month name (jan…dec)" : field == .dayOfWeek ? " or a weekday name (sun…sat)" : ""
        return error(.notAlpha, "not a number\(names)", token: item)
    }

    // MARK: H and R

    /// `H`, `H(a-b)`, `H/n`, `H(a-b)/n` (and `R` forms) expanded with croniter's formula.
    private func expandHash(_ text: String, notes: inout [CronLintWarning]) throws(CronParseError) -> String? {
        guard let first = text.first, first == "h" || first == "r" else { return nil }
        var rest = text.dropFirst()
        var bounds: (Int, Int)?
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            let inside = rest[rest.index(after: rest.startIndex)..<close].split(separator: "-", omittingEmptySubsequences: false)
            guard inside.count == 2, let low = Int.ascii(inside[0]), let high = Int.ascii(inside[1]) else { return nil }
            bounds = (low, high)
            rest = rest[rest.index(after: close)...]
        }
        var divisor: Int?
        if rest.first == "/" {
            guard let value = Int.ascii(rest.dropFirst()) else { return nil }
            divisor = value
            rest = rest[rest.endIndex...]
        }
        guard rest.isEmpty else { return nil }

        let crc: UInt32
        if first == "r" {
            crc = UInt32.random(in: 0...UInt32.max)
            notes.append(CronLintWarning(
                code: .random, field: field, token: text,
                message: "'R' draws a new random value each time the expression is parsed, so replicas disagree; use 'H'"
            ))
        } else {
            guard let hashID = options.hashID else {
                throw error(.badCron, "'H' needs a hash key (croniter's hash_id); periodic tasks use their name and periodic id")
            }
            crc = CRC32.checksum(hashID.utf8)
        }
        var low = field.range.lowerBound
        var high = field.range.upperBound
        if let (begin, end) = bounds {
            guard begin < end else { throw error(.badCron, "in H(a-b), a must be less than b") }
            for bound in [begin, end] where !field.range.contains(field == .dayOfWeek && bound == 7 ? 0 : bound) {
                throw error(.badCron, "H range bound \(bound) is outside \(field.range.lowerBound)-\(field.range.upperBound)")
            }
            low = begin
            high = end
        }
        let draw = { (low: Int, high: Int) in Int((crc >> UInt32(field.rawValue)) % UInt32(high - low + 1)) + low }
        guard let divisor else {
            return String(draw(low, high))
        }
        guard divisor > 0 else { throw error(.badCron, "the step must be at least 1") }
        let start = draw(low, min(low + divisor - 1, high))
        return start == high ? String(start) : "\(start)-\(high)/\(divisor)"
    }

    // MARK: Items

    private mutating func parseItem(_ item: Substring, itemCount: Int, notes: inout [CronLintWarning]) throws(CronParseError) {
        if field == .dayOfWeek, try parseWeekdaySpecial(item, notes: &notes) {
            return
        }
        if field == .dayOfMonth, try parseMonthDaySpecial(item, itemCount: itemCount) {
            return
        }
        guard let values = try expandRange(item, notes: &notes) else {
            switch try singleValue(item) {
            case .every: isStar = true
            case .lastDayOfMonth: lastDay = true
            case .value(let value): try insert(value, item: item)
            }
            return
        }
        for value in values {
            try insert(value, item: item)
        }
    }

    /// `d#n`, `name#n`, `mon-fri#n`, `Ld`, and the extensions `1-5#n`, `d#L`, `dL`.
    private mutating func parseWeekdaySpecial(_ item: Substring, notes: inout [CronLintWarning]) throws(CronParseError) -> Bool {
        let base: Substring
        let nth: UInt8
        if let hash = item.firstIndex(of: "#") {
            base = item[..<hash]
            let suffix = item[item.index(after: hash)...]
            if suffix == "l" {
                nth = DayRule.lastBit
            } else if let n = Int.ascii(suffix) {
                guard (1...5).contains(n) else { throw error(.badCron, "the nth weekday must be 1 to 5", token: item) }
                nth = 1 << UInt8(n)
            } else {
                throw notAlpha(item)
            }
            let isWord = !base.isEmpty && base.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            let range = base.split(separator: "-", omittingEmptySubsequences: false)
            let isNameRange = range.count == 2 && range.allSatisfy { CronField.weekdayNames.contains($0) || CronField.monthNames.contains($0) }
            let isNumberRange = range.count == 2 && range.allSatisfy { Int.ascii($0) != nil }
            guard isWord || isNameRange || isNumberRange else { throw notAlpha(item) }
        } else if item.count > 1, item.first == "l", let day = Int.ascii(item.dropFirst()) {
            base = item.dropFirst()
            nth = DayRule.lastBit
            _ = day
        } else if item.count > 1, item.last == "l", Int.ascii(item.dropLast()) != nil {
            base = item.dropLast()  // extension: `5L`, the last Friday
            nth = DayRule.lastBit
        } else {
            return false
        }
        let weekdays: [Int]
        if let range = try expandRange(base, notes: &notes) {
            weekdays = range
        } else {
            guard case .value(let weekday) = try singleValue(base) else { throw notAlpha(item) }
            weekdays = [weekday]
        }
        for weekday in weekdays {
            try insert(weekday, item: item)
            nthWeekdays[weekday] |= nth
        }
        return true
    }

    /// `nW`, `Wn`, and the extensions `LW` and `L-n`.
    private mutating func parseMonthDaySpecial(_ item: Substring, itemCount: Int) throws(CronParseError) -> Bool {
        if item == "lw" {
            guard itemCount == 1 else { throw error(.badCron, "'LW' must be the whole field", token: item) }
            lastWeekdayOfMonth = true
            return true
        }
        if item.hasPrefix("l-") {
            guard let offset = Int.ascii(item.dropFirst(2)), offset < 31 else {
                throw error(.badCron, "'L-n' needs n from 0 to 30 (days before the last)", token: item)
            }
            daysBeforeLast |= 1 << UInt32(offset)
            return true
        }
        let digits: Substring
        if item.count > 1, item.last == "w" {
            digits = item.dropLast()
        } else if item.count > 1, item.first == "w" {
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

    /// The values of a range item (`a-b`, `a-b/s`, `*/s` or `a/s`), or nil when `item` is not one.
    private func expandRange(_ item: Substring, notes: inout [CronLintWarning]) throws(CronParseError) -> [Int]? {
        let range = field.range
        var rangeText = item
        var startWithStep = false
        var parts = Self.rangeParts(item)
        if item.hasPrefix("*/") {
            rangeText = "\(range.lowerBound)-\(range.upperBound)/\(item.dropFirst(2))"
            parts = Self.rangeParts(rangeText)
        } else if parts == nil, let slash = item.lastIndex(of: "/"), slash != item.startIndex,
            item.index(after: slash) != item.endIndex
        {
            rangeText = "\(item[..<slash])-\(range.upperBound)/\(item[item.index(after: slash)...])"
            parts = Self.rangeParts(rangeText)
            startWithStep = parts != nil
        }
        guard let (lowText, highText, stepText) = parts else {
            return nil
        }

        let low = try bound(lowText, item: item)
        let high = try bound(field == .dayOfMonth && highText == "l" ? "31" : highText, item: item)
        guard let step = Int.ascii(stepText ?? "1") else {
            throw error(.badCron, "the step '\(stepText ?? "")' must be a number", token: item)
        }
        guard step > 0 else { throw error(.badCron, "the step must be at least 1", token: item) }
        guard max(low, high) <= range.upperBound else {
            throw error(.badCron, "\(max(low, high)) is beyond the field's maximum \(range.upperBound)", token: item)
        }

        if startWithStep && low == high {
            notes.append(CronLintWarning(
                code: .maxStartStep, field: field, token: String(item),
                message: "'\(item)' starts at the field's maximum, so it means only \(low) (croniter 7; older versions read the whole field)"
            ))
            return [low]
        }
        if low == high {
            notes.append(CronLintWarning(
                code: .equalRange, field: field, token: String(item),
                message: "'\(item)' is an equal range, which croniter reads as the whole \(field) cycle, not the single value \(low)"
            ))
            return Array(stride(from: range.lowerBound, through: range.upperBound, by: step))
        }
        if item.hasPrefix("*/"), step > 1, range.count % step != 0, field != .year, field != .dayOfMonth {
            let values = Array(stride(from: range.lowerBound, through: range.upperBound, by: step))
            notes.append(CronLintWarning(
                code: .unevenStep, field: field, token: String(item),
                message: "\(step) does not divide \(range.count): the gap from \(values.last!) back to \(range.lowerBound) is \(range.upperBound + 1 - values.last!), not \(step)"
            ))
        }
        guard low > high else {
            return Array(stride(from: low, through: high, by: step))
        }
        notes.append(CronLintWarning(
            code: .wrappingRange, field: field, token: String(item),
            message: "'\(item)' wraps around the end of the \(field) field (croniter's reading; most crons reject it)"
        ))
        // croniter's wrap: low…max, then min…high, the step carried across when it fits.
        var values = Array(stride(from: low, through: range.upperBound, by: step))
        var skip = 0
        if let last = values.last {
            let skippedAtEnd = range.upperBound - last
            if last - range.lowerBound + step > range.count, skippedAtEnd < step {
                skip = step - skippedAtEnd
            }
        }
        values += Array(stride(from: range.lowerBound + skip, through: high, by: step))
        return values
    }

    /// `a-b[/s]` split into its parts (croniter's `^([^-]+)-([^-/]+)(/(\d+))?$`).
    private static func rangeParts(_ text: Substring) -> (Substring, Substring, Substring?)? {
        guard let dash = text.firstIndex(of: "-"), dash != text.startIndex else { return nil }
        let low = text[..<dash]
        var rest = text[text.index(after: dash)...]
        var step: Substring?
        if let slash = rest.firstIndex(of: "/") {
            step = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            guard let digits = step, !digits.isEmpty, Int.ascii(digits) != nil else { return nil }
        }
        guard !rest.isEmpty, !rest.contains("-") else { return nil }
        return (low, rest, step)
    }

    /// A range bound: a number or a name, Sunday 7 read as 0.
    private func bound(_ text: Substring, item: Substring) throws(CronParseError) -> Int {
        if let number = Int.ascii(text) {
            return field == .dayOfWeek && number == 7 ? 0 : number
        }
        if let value = field.value(forName: text) {
            return value
        }
        if field == .dayOfMonth, text == "l" {
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
    private func singleValue(_ item: Substring) throws(CronParseError) -> Single {
        if item == "*" { return .every }
        if field == .dayOfMonth, item == "l" { return .lastDayOfMonth }
        if item.hasPrefix("-") {
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

    private mutating func insert(_ value: Int, item: Substring) throws(CronParseError) {
        guard field.range.contains(value) else {
            throw error(.badCron, "\(value) is outside \(field.range.lowerBound)-\(field.range.upperBound)", token: item)
        }
        if field == .year {
            if !years.contains(value) { years.append(value) }
        } else {
            bits |= 1 << UInt64(value)
        }
    }
}

extension Int {
    /// The value of a non-empty string of ASCII digits (nil otherwise, or on overflow).
    static func ascii<S: StringProtocol>(_ text: S) -> Int? {
        guard !text.isEmpty else { return nil }
        var value = 0
        for byte in text.utf8 {
            guard byte >= 48, byte <= 57 else { return nil }
            let (multiplied, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (added, overflow2) = multiplied.addingReportingOverflow(Int(byte - 48))
            guard !overflow1, !overflow2 else { return nil }
            value = added
        }
        return value
    }
}

extension UInt64 {
    /// Bits `range.lowerBound` through `range.upperBound` set.
    static func mask(_ range: ClosedRange<Int>) -> UInt64 {
        guard range.upperBound < 64 else { return ~0 }
        return (UInt64(1) << UInt64(range.upperBound + 1)) - (UInt64(1) << UInt64(range.lowerBound))
    }
}
