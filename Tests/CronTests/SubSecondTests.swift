import Cron
import Foundation
import Testing

/// `next` and `previous` from instants inside a second: strictly after or before the instant
/// itself, never skipping a fire time inside that second.
@Suite struct SubSecondTests {
    static let zones = ["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe"]

    @Test(arguments: zones, CronSchedule.DSTPolicy.allCases)
    func aFireTimeInsideTheSecondIsNotSkipped(zone: String, dst: CronSchedule.DSTPolicy) throws {
        let timeZone = try #require(TimeZone(identifier: zone))
        let minutely = try CronSchedule(parsing: "* * * * *", timeZone: timeZone, dst: dst)
        let everySecond = try CronSchedule(parsing: "* * * * * *", timeZone: timeZone, dst: dst)
        // 2026-11-30 05:57:00 UTC, a whole minute in every zone above.
        let tick = Date(timeIntervalSince1970: 1_796_018_220)
        for fraction in [0.001, 0.5, 0.991] {
            let inside = tick.addingTimeInterval(fraction)
            #expect(minutely.previous(before: inside) == tick, "\(zone) \(dst) previous before +\(fraction)")
            #expect(minutely.next(after: inside) == tick.addingTimeInterval(60), "\(zone) \(dst) next after +\(fraction)")
            #expect(everySecond.previous(before: inside) == tick, "\(zone) \(dst) previous before +\(fraction) (seconds)")
            #expect(everySecond.next(after: inside) == tick.addingTimeInterval(1), "\(zone) \(dst) next after +\(fraction) (seconds)")
            let before = tick.addingTimeInterval(-fraction)
            #expect(minutely.next(after: before) == tick, "\(zone) \(dst) next after -\(fraction)")
            #expect(minutely.previous(before: before) == tick.addingTimeInterval(-60), "\(zone) \(dst) previous before -\(fraction)")
            #expect(everySecond.next(after: before) == tick, "\(zone) \(dst) next after -\(fraction) (seconds)")
            #expect(Array(minutely.dates(before: inside).prefix(2)) == [tick, tick.addingTimeInterval(-60)])
        }
        #expect(minutely.previous(before: tick) == tick.addingTimeInterval(-60))
        #expect(minutely.next(after: tick) == tick.addingTimeInterval(60))
    }
}
