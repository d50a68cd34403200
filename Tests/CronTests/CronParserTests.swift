import Foundation
import Testing

@testable import Cron

/// Every rejection, with its field, token, column and sentence.
@Suite struct CronParseErrorTests {
    @Test(arguments: [
        ("* * * *", "'* * * *' at column 1: expected 5, 6 or 7 fields (minute hour day-of-month month day-of-week [second [year]]), found 4", CronParseError.Kind.badCron),
        ("@reboot", "'@reboot' at column 1: @reboot is not supported: it has no meaning for a task queue", .badCron),
        ("@hourlyy", "'@hourlyy' at column 1: unknown nickname (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>)", .badCron),
        ("0 0 * * 5#6", "day-of-week: '5#6' at column 9: the nth weekday must be 1 to 5", .badCron),
        ("60 * * * *", "minute: '60' at column 1: 60 is outside 0-59", .badCron),
        ("0 0 0 * *", "day-of-month: '0' at column 5: 0 is outside 1-31", .badCron),
        ("0 0 * 13 *", "month: '13' at column 7: 13 is outside 1-12", .badCron),
        ("0-75 * * * *", "minute: '0-75' at column 1: 75 is beyond the field's maximum 59", .badCron),
        ("*/0 * * * *", "minute: '*/0' at column 1: the step must be at least 1", .badCron),
        ("-1 * * * *", "minute: '-1' at column 1: negative numbers are not allowed", .badCron),
        ("0 0 * * monday", "day-of-week: 'monday' at column 9: not a number or a weekday name (sun…sat)", .notAlpha),
        ("0 0 * janu *", "month: 'janu' at column 7: not a number or a month name (jan…dec)", .notAlpha),
        ("0 1,,2 * * *", "hour: '' at column 5: not a number", .notAlpha),
        ("0 0 1,? * *", "day-of-month: '1,?' at column 5: '?' must be the whole field", .badCron),
        ("? * * * *", "minute: '?' at column 1: '?' is only allowed in day-of-month and day-of-week", .badCron),
        ("0 0 1W,15 * *", "day-of-month: '1w' at column 5: 'W' takes a single day, not a list or a range", .badCron),
        ("0 0 32W * *", "day-of-month: '32w' at column 5: the day of 'W' must be 1 to 31", .badCron),
        ("0 0 L/5 * *", "day-of-month: 'l/5' at column 5: a range bound must be a number or a name ('L' can only end a range)", .badCron),
        ("0 0 * * 5#3,1", "day-of-week: '5#3,1' at column 9: plain weekdays cannot be mixed with '#' or 'L' forms", .unsupportedSyntax),
        ("H * * * *", "minute: 'h' at column 1: 'H' needs a hash key (croniter's hash_id); periodic tasks use their name and periodic id", .badCron),
        ("0 0 * * * 0 1969", "year: '1969' at column 13: 1969 is outside 1970-2099", .badCron),
        ("0\u{A0}0 * * * *", "minute: '0\u{A0}0' at column 1: not a number", .notAlpha),
        ("@every 5x", "'@every 5x' at column 1: 'x' is not a duration unit (d, h, m, s)", .badCron),
    ])
    func rejects(expression: String, message: String, kind: CronParseError.Kind) {
        do {
            let parsed = try CronExpression(expression)
            Issue.record("accepted \(expression.debugDescription) as \(parsed)")
        } catch {
            #expect(error.description == message)
            #expect(error.kind == kind)
        }
    }

    @Test func hashNeedsARangeInOrder() {
        #expect(throws: CronParseError.self) { try CronExpression("H(30-10) * * * *", options: .init(hashID: "x")) }
        #expect(throws: CronParseError.self) { try CronExpression("H(0-99) * * * *", options: .init(hashID: "x")) }
    }

    @Test func aZonePrefixMustNameAZone() {
        #expect(throws: CronParseError.self) { try CronSchedule(parsing: "CRON_TZ=Mars/Olympus 0 0 * * *") }
    }
}

/// The forms croniter rejects that we accept (decisions, section 4.3).
@Suite struct CronExtensionTests {
    func fires(_ expression: String, after start: String, count: Int = 3, zone: String = "UTC") throws -> [String] {
        let timeZone = try #require(TimeZone(identifier: zone))
        let schedule = try CronSchedule(parsing: expression, timeZone: timeZone)
        let formatter = ISO8601DateFormatter()
        return schedule.dates(after: try #require(formatter.date(from: start))).prefix(count).map { schedule.localTimeString($0) }
    }

    @Test func lastWeekdaySpellings() throws {
        let expected = ["2024-01-26T00:00:00+00:00", "2024-02-23T00:00:00+00:00", "2024-03-29T00:00:00+00:00"]
        for spelling in ["0 0 * * 5L", "0 0 * * 5#L", "0 0 * * fri#L", "0 0 * * L5"] {
            #expect(try fires(spelling, after: "2024-01-01T00:00:00Z") == expected, "\(spelling)")
        }
    }

    @Test func numericRangeWithNth() throws {
        // 2nd Monday…Friday of January 2024: the 8th to the 12th.
        #expect(try fires("0 0 * * 1-5#2", after: "2024-01-01T00:00:00Z", count: 5)
            == ["08", "09", "10", "11", "12"].map { "2024-01-\($0)T00:00:00+00:00" })
    }

    @Test func daysBeforeTheLast() throws {
        #expect(try fires("0 0 L-2 * *", after: "2024-01-01T00:00:00Z") == [
            "2024-01-29T00:00:00+00:00", "2024-02-27T00:00:00+00:00", "2024-03-29T00:00:00+00:00",
        ])
    }

    @Test func lastWeekdayOfTheMonth() throws {
        // March 2024 ends on a Sunday, so its last weekday is Friday the 29th.
        #expect(try fires("0 0 LW * *", after: "2024-02-01T00:00:00Z", count: 2) == [
            "2024-02-29T00:00:00+00:00", "2024-03-29T00:00:00+00:00",
        ])
    }

    @Test func plusAndsTheDayFields() throws {
        // Friday the 13th.
        #expect(try fires("0 0 13 * +fri", after: "2024-01-01T00:00:00Z", count: 2) == [
            "2024-09-13T00:00:00+00:00", "2024-12-13T00:00:00+00:00",
        ])
    }

    @Test func everyIsAlignedOnTheEpoch() throws {
        #expect(try fires("@every 90m", after: "2024-01-01T00:10:00Z", count: 2) == [
            "2024-01-01T01:30:00+00:00", "2024-01-01T03:00:00+00:00",
        ])
    }

    @Test func zonePrefix() throws {
        #expect(try fires("CRON_TZ=Europe/Paris 0 9 * * *", after: "2024-07-01T00:00:00Z", count: 1) == ["2024-07-01T09:00:00+02:00"])
        #expect(try fires("TZ=America/New_York 0 9 * * *", after: "2024-07-01T00:00:00Z", count: 1) == ["2024-07-01T09:00:00-04:00"])
    }

    @Test func hashWithAKeyIsStable() throws {
        let first = try CronExpression("H H * * *", options: .init(hashID: "send_report|"))
        let second = try CronExpression("H H * * *", options: .init(hashID: "send_report|"))
        #expect(first.fieldTexts == second.fieldTexts)
        #expect(try CronExpression("H * * * *", options: .init(hashID: "other")).fieldTexts[.minute] != nil)
    }
}

/// Time zones, the two fold policies, the sequences and exact matching.
@Suite struct CronScheduleTests {
    let newYork = TimeZone(identifier: "America/New_York")!

    func iso(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func aFixedTimeInTheGapFiresWhenTheClockResumes() throws {
        let schedule = try CronSchedule(parsing: "30 2 * * *", timeZone: newYork)
        let next = schedule.dates(after: iso("2024-03-09T12:00:00Z")).prefix(3).map { schedule.localTimeString($0) }
        #expect(next == ["2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00", "2024-03-12T02:30:00-04:00"])
    }

    @Test func wildcardHoursSkipTheGap() throws {
        let schedule = try CronSchedule(parsing: "*/30 * * * *", timeZone: newYork)
        let next = schedule.dates(after: iso("2024-03-10T06:15:00Z")).prefix(2).map { schedule.localTimeString($0) }
        #expect(next == ["2024-03-10T01:30:00-05:00", "2024-03-10T03:00:00-04:00"])
    }

    @Test(arguments: [
        (CronSchedule.DSTPolicy.once, ["2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"]),
        (.croniter, ["2024-11-03T01:30:00-04:00", "2024-11-03T01:30:00-05:00"]),
    ])
    func aFixedTimeInTheFold(dst: CronSchedule.DSTPolicy, expected: [String]) throws {
        let schedule = try CronSchedule(parsing: "30 1 * * *", timeZone: newYork, dst: dst)
        #expect(schedule.dates(after: iso("2024-11-03T00:00:00-04:00")).prefix(2).map { schedule.localTimeString($0) } == expected)
    }

    @Test func wildcardHoursFireInBothPassesOfTheFold() throws {
        let schedule = try CronSchedule(parsing: "30 * * * *", timeZone: newYork, dst: .once)
        let next = schedule.dates(after: iso("2024-11-03T00:45:00-04:00")).prefix(3).map { schedule.localTimeString($0) }
        #expect(next == ["2024-11-03T01:30:00-04:00", "2024-11-03T01:30:00-05:00", "2024-11-03T02:30:00-05:00"])
    }

    @Test func previousIsStrictlyBeforeAndNextStrictlyAfter() throws {
        let schedule = try CronSchedule(parsing: "0 * * * *")
        let onTheHour = iso("2024-05-01T10:00:00Z")
        #expect(schedule.next(after: onTheHour) == iso("2024-05-01T11:00:00Z"))
        #expect(schedule.previous(before: onTheHour) == iso("2024-05-01T09:00:00Z"))
        #expect(Array(schedule.dates(before: onTheHour).prefix(2)) == [iso("2024-05-01T09:00:00Z"), iso("2024-05-01T08:00:00Z")])
    }

    @Test func matchingIsExact() throws {
        let schedule = try CronSchedule(parsing: "0 0 * * *")
        #expect(schedule.matches(iso("2024-05-01T00:00:00Z")))
        #expect(!schedule.matches(iso("2024-05-01T00:00:59Z")))  // croniter's match() says yes (Q19)
        #expect(!schedule.matches(iso("2024-05-01T00:01:00Z")))
    }

    @Test func farMatchesAreFoundWhereCroniterGivesUp() throws {
        let schedule = try CronSchedule(parsing: "0 0 1 1 * 0 2099")
        #expect(schedule.next(after: iso("2024-01-01T00:00:00Z")) == iso("2099-01-01T00:00:00Z"))
        #expect(schedule.next(after: iso("2099-01-01T00:00:00Z")) == nil)
    }

    @Test func anImpossibleDateNeverFires() throws {
        let expression = try CronExpression("0 0 30 2 *")
        #expect(expression.neverFires)
        #expect(CronSchedule(expression).next(after: iso("2024-01-01T00:00:00Z")) == nil)
        #expect(CronSchedule(expression).previous(before: iso("2024-01-01T00:00:00Z")) == nil)
    }
}

/// The linter's warnings.
@Suite struct CronLintTests {
    @Test(arguments: [
        ("5-5 * * * *", CronLintWarning.Code.equalRange),
        ("50-10 * * * *", .wrappingRange),
        ("0 0 10 * 5#2", .specialDayIgnoresOtherField),
        ("0 0 1 * */2", .starDayFieldIsOred),
        ("59/15 * * * *", .maxStartStep),
        ("0 0 30 2 *", .neverFires),
        ("*/7 * * * *", .unevenStep),
        ("R * * * *", .random),
        ("0 0 * * 5#3,0-4,6", .mixedNthFullWeek),
        ("0 9 * * * 1-5", .secondsLookLikeWeekday),
    ])
    func warns(expression: String, code: CronLintWarning.Code) throws {
        let warnings = try CronExpression(expression).lintWarnings
        #expect(warnings.map(\.code).contains(code), "\(warnings)")
    }

    @Test func aPlainScheduleHasNoWarnings() throws {
        #expect(try CronExpression("*/15 9-17 * * mon-fri").lintWarnings.isEmpty)
        #expect(try CronExpression("0 0 * * * 30").lintWarnings.isEmpty)
    }
}
