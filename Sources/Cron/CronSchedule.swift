public import Foundation

/// A cron expression evaluated in a time zone, with an explicit daylight-saving policy.
///
/// ```swift
/// let schedule = try CronSchedule(parsing: "30 2 * * *", timeZone: TimeZone(named: "Europe/Paris"))
/// let next = schedule.next(after: .now)
/// ```
///
/// Fire times are the instants whose local wall-clock time matches the expression, plus the
/// daylight-saving rules:
/// - **gap** (clocks jump forward), as croniter: a matching time that does not exist fires
///   at the first existing time, whole minutes later (02:30 becomes 03:00), when the hour
///   field is restricted; with `*` hours the missing times are skipped;
/// - **fold** (clocks go back): see ``DSTPolicy``.
///
/// The default zone is UTC, as in Procrastinate. Next is strictly after, previous strictly
/// before, at whole-minute (5 fields) or whole-second (6 or 7 fields) granularity. The search
/// covers every year up to 9999: there is no 50-year give-up.
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    /// What happens to matching wall-clock times that occur twice when clocks go back.
    public enum DSTPolicy: String, Sendable, Hashable, CaseIterable {
        /// Fixed-time schedules (a restricted hour field) fire once, in the first pass;
        /// schedules with `*` hours fire in both passes. This is Vixie cron's, croner's and
        /// the Open Cron Pattern Specification's behaviour, and the default.
        case once
        /// Every matching wall-clock time fires in both passes (01:30 EDT and 01:30 EST), as
        /// croniter does.
        case croniter
    }

    /// The expression.
    public let expression: CronExpression
    /// The zone its wall-clock times are in.
    public let timeZone: TimeZone
    /// The fold policy.
    public let dst: DSTPolicy
    /// The zone's offset when it never changes (UTC and fixed-offset zones).
    private let fixedOffset: Int64?

    /// UTC.
    public static let utc = TimeZone(identifier: "UTC")!

    /// A schedule for `expression` in `timeZone`.
    public init(_ expression: CronExpression, timeZone: TimeZone = CronSchedule.utc, dst: DSTPolicy = .once) {
        self.expression = expression
        self.timeZone = timeZone
        self.dst = dst
        let epoch = Date(timeIntervalSince1970: 0)
        fixedOffset = timeZone.nextDaylightSavingTimeTransition(after: epoch) == nil
            ? Int64(timeZone.secondsFromGMT(for: epoch)) : nil
    }

    /// Parses `text`, which may start with a `CRON_TZ=Zone ` or `TZ=Zone ` prefix naming its
    /// time zone (overriding `timeZone`).
    public init(
        parsing text: String, options: CronExpression.Options = .init(), timeZone: TimeZone = CronSchedule.utc,
        dst: DSTPolicy = .once
    ) throws(CronParseError) {
        var zone = timeZone
        var expressionText = text
        for prefix in ["CRON_TZ=", "TZ="] where text.hasPrefix(prefix) {
            let rest = text.dropFirst(prefix.count)
            let name = rest.prefix { !CronParser.isASCIISpace($0) }
            guard let named = TimeZone(identifier: String(name)) else {
                throw CronParseError(
                    kind: .badCron, field: nil, token: String(name), column: prefix.count + 1,
                    reason: "unknown time zone (expected an IANA name such as Europe/Paris)"
                )
            }
            zone = named
            expressionText = String(rest.dropFirst(name.count).drop(while: CronParser.isASCIISpace))
        }
        self.init(try CronExpression(expressionText, options: options), timeZone: zone, dst: dst)
    }

    public var description: String {
        "\(expression.text) (\(timeZoneName), dst: \(dst.rawValue))"
    }

    /// The zone's IANA name, `UTC` for UTC (which Foundation may call `GMT`).
    public var timeZoneName: String {
        timeZone == Self.utc ? "UTC" : timeZone.identifier
    }

    // MARK: Queries

    /// The first fire time strictly after `date`, or nil when there is none (up to year 9999).
    public func next(after date: Date) -> Date? {
        if dst == .croniter, fixedOffset == nil, !expression.neverFires, expression.interval == nil {
            return croniterStep(from: date.timeIntervalSince1970, forward: true).map { Date(timeIntervalSince1970: TimeInterval($0)) }
        }
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard let start = Int64(exactly: seconds) else { return nil }
        return nextInstant(atOrAfter: start + 1).map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// The last fire time strictly before `date`, or nil when there is none (down to year 1).
    public func previous(before date: Date) -> Date? {
        if dst == .croniter, fixedOffset == nil, !expression.neverFires, expression.interval == nil {
            return croniterStep(from: date.timeIntervalSince1970, forward: false).map { Date(timeIntervalSince1970: TimeInterval($0)) }
        }
        let seconds = date.timeIntervalSince1970.rounded(.up)
        guard let start = Int64(exactly: seconds) else { return nil }
        return previousInstant(atOrBefore: start - 1).map { Date(timeIntervalSince1970: TimeInterval($0)) }
    }

    /// Whether `date` is exactly a fire time.
    public func matches(_ date: Date) -> Bool {
        let seconds = date.timeIntervalSince1970
        guard seconds == seconds.rounded(.down) else { return false }
        return next(after: date.addingTimeInterval(-1)) == date
    }

    /// The fire times after `date`, in order, computed as they are consumed.
    public func dates(after date: Date) -> Dates {
        Dates(schedule: self, cursor: date, forward: true)
    }

    /// The fire times before `date`, latest first, computed as they are consumed.
    public func dates(before date: Date) -> Dates {
        Dates(schedule: self, cursor: date, forward: false)
    }

    /// A lazy sequence of fire times, forwards or backwards.
    public struct Dates: Sequence, IteratorProtocol, Sendable {
        let schedule: CronSchedule
        var cursor: Date?
        let forward: Bool

        public mutating func next() -> Date? {
            guard let current = cursor else { return nil }
            cursor = forward ? schedule.next(after: current) : schedule.previous(before: current)
            return cursor
        }
    }

    // MARK: Zone arithmetic

    /// A stretch of time with one UTC offset, and the transition that began it.
    struct Segment {
        /// The instant of the transition that began the segment (nil: none known nearby).
        var start: Int64?
        /// The offset before that transition.
        var previousOffset: Int64
        /// The offset within the segment.
        var offset: Int64

        var isAfterGap: Bool { start != nil && offset > previousOffset }
        var isAfterFold: Bool { start != nil && offset < previousOffset }
    }

    func offset(at instant: Int64) -> Int64 {
        Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
    }

    /// The first transition strictly after `instant`.
    func transition(after instant: Int64) -> Int64? {
        timeZone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: TimeInterval(instant)))
            .map { Int64($0.timeIntervalSince1970.rounded()) }
    }

    /// The segment holding `instant`, looking back at most `window` seconds for its transition.
    private func segment(containing instant: Int64, window: Int64) -> Segment {
        let offset = offset(at: instant)
        var start: Int64?
        var cursor = instant - window
        while let next = transition(after: cursor), next <= instant {
            start = next
            cursor = next
        }
        guard let start else {
            return Segment(start: nil, previousOffset: offset, offset: offset)
        }
        return Segment(start: start, previousOffset: self.offset(at: start - 1), offset: offset)
    }

    /// Whether the wall-clock time `wall` of `segment` repeats one of the previous segment
    /// and must not fire again under ``DSTPolicy/once``.
    private func isSecondPass(_ wall: Int64, in segment: Segment) -> Bool {
        dst == .once && !expression.hourIsWildcard && segment.isAfterFold && wall < segment.start! + segment.previousOffset
    }

    /// Instants at which matching times inside the gap that began `segment` fire (croniter
    /// moves each forward by whole minutes to the first existing time), between `lower` and
    /// `upper` inclusive; `pickLatest` chooses which end to favour.
    private func gapFire(in segment: Segment, from lower: Int64, to upper: Int64, pickLatest: Bool) -> Int64? {
        guard segment.isAfterGap, !expression.hourIsWildcard, let start = segment.start else { return nil }
        let gapStart = start + segment.previousOffset
        let gapEnd = start + segment.offset
        var best: Int64?
        var wall = gapStart
        while let match = expression.nextWallTime(atOrAfter: wall), match < gapEnd {
            let minutes = (gapEnd - match + 59) / 60
            let instant = match + minutes * 60 - segment.offset
            if instant >= lower, instant <= upper {
                best = pickLatest ? max(best ?? instant, instant) : min(best ?? instant, instant)
            }
            wall = match + 1
            if !expression.hasSeconds { wall = max(wall, match + 60) }
        }
        return best
    }

    func nextInstant(atOrAfter start: Int64) -> Int64? {
        guard !expression.neverFires else { return nil }
        if let fixedOffset {
            return expression.nextWallTime(atOrAfter: start + fixedOffset).map { $0 - fixedOffset }
        }
        var segment = segment(containing: start, window: 2 * 86_400)
        var from = start
        while true {
            let end = transition(after: from)
            // Times in a gap fire only when the search crosses it, as in croniter.
            var best = from == segment.start
                ? gapFire(in: segment, from: from, to: end.map { $0 - 1 } ?? .max, pickLatest: false) : nil
            var wall = from + segment.offset
            var exhausted = false
            while true {
                guard let match = expression.nextWallTime(atOrAfter: wall) else {
                    exhausted = true
                    break
                }
                let instant = match - segment.offset
                if let end, instant >= end { break }
                if isSecondPass(match, in: segment) {
                    wall = segment.start! + segment.previousOffset
                    continue
                }
                best = min(best ?? instant, instant)
                break
            }
            if let best { return best }
            guard let end else { return nil }
            let nextOffset = offset(at: end)
            // With no match left on the wall clock, only a fold (walls repeating) could bring one.
            if exhausted, nextOffset >= segment.offset { return nil }
            segment = Segment(start: end, previousOffset: segment.offset, offset: nextOffset)
            from = end
        }
    }

    func previousInstant(atOrBefore start: Int64) -> Int64? {
        guard !expression.neverFires else { return nil }
        if let fixedOffset {
            return expression.previousWallTime(atOrBefore: start + fixedOffset).map { $0 - fixedOffset }
        }
        var cursor = start
        while true {
            let segment = segment(containing: cursor, window: 400 * 86_400)
            let lowerBound = segment.start ?? cursor - 400 * 86_400
            var best = gapFire(in: segment, from: lowerBound, to: cursor, pickLatest: true)
            if let match = expression.previousWallTime(atOrBefore: cursor + segment.offset),
                match - segment.offset >= lowerBound, !isSecondPass(match, in: segment)
            {
                best = max(best ?? match - segment.offset, match - segment.offset)
            }
            if let best { return best }
            if segment.start == nil, expression.previousWallTime(atOrBefore: cursor + segment.offset) == nil {
                return nil
            }
            cursor = lowerBound - 1
        }
    }
}

extension CronSchedule {
    /// `date` in this schedule's zone as ISO 8601 with its UTC offset: `2024-03-10T03:00:00-04:00`.
    public func localTimeString(_ date: Date) -> String {
        let offset = timeZone.secondsFromGMT(for: date)
        let wall = Int64(date.timeIntervalSince1970.rounded(.down)) + Int64(offset)
        let (days, secondOfDay) = CivilTime.split(wall)
        let (year, month, day) = CivilTime.date(days: days)
        func pad(_ value: Int, _ width: Int = 2) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let sign = offset < 0 ? "-" : "+"
        return "\(pad(year, 4))-\(pad(month))-\(pad(day))T\(pad(secondOfDay / 3600)):\(pad(secondOfDay / 60 % 60)):\(pad(secondOfDay % 60))"
            + "\(sign)\(pad(abs(offset) / 3600)):\(pad(abs(offset) / 60 % 60))"
    }
}
