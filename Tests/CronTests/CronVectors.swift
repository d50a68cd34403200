import Foundation
import Testing

@testable import Cron

/// The croniter 7.0.0 test vectors of `../shared/cron-cases/cases.jsonl`.
struct CronVector: Decodable, Sendable {
    struct Options: Decodable, Sendable {
        var day_or: Bool?
        var hash_id: String?
        var second_at_beginning: Bool?
    }

    var id: String
    var kind: String
    var expr: String
    var options: Options
    var tags: [String]
    var tz: String?
    var start: String?
    var start_ts: Double?
    var next: [String]?
    var next_error: String?
    var prev: [String]?
    var prev_error: String?
    var at: String?
    var match: Bool?
    var error: String?

    var expressionOptions: CronExpression.Options {
        CronExpression.Options(
            dayOr: options.day_or ?? true, hashID: options.hash_id, secondsFirst: options.second_at_beginning ?? false
        )
    }

    /// Every vector; the file is found beside the repository (CRON_CASES overrides).
    static let all: [CronVector] = {
        let path = ProcessInfo.processInfo.environment["CRON_CASES"]
            ?? URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../../shared/cron-cases/cases.jsonl").path()
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(CronVector.self, from: Data($0)) }
    }()
}

/// `2024-03-10T03:00:00-04:00`: the instant in `zone`, as the vectors write it.
func isoString(_ date: Date, in zone: TimeZone) -> String {
    let offset = zone.secondsFromGMT(for: date)
    let wall = Int64(date.timeIntervalSince1970.rounded(.down)) + Int64(offset)
    let (days, secondOfDay) = CivilTime.split(wall)
    let (year, month, day) = CivilTime.date(days: days)
    let sign = offset < 0 ? "-" : "+"
    let pad = { (value: Int, width: Int) in String(repeating: "0", count: max(0, width - String(value).count)) + String(value) }
    return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
        + "\(sign)\(pad(abs(offset) / 3600, 2)):\(pad(abs(offset) / 60 % 60, 2))"
}
