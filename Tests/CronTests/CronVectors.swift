import Foundation
import Testing

@testable import Cron

/// The croniter 7.0.0 test vectors of `Tests/Fixtures/cron-cases/cases.jsonl` (how they were
/// made: the README beside them).
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

    /// Every vector, from the repository's copy (CRON_CASES overrides).
    static let all: [CronVector] = {
        let path = ProcessInfo.processInfo.environment["CRON_CASES"]
            ?? URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../Fixtures/cron-cases/cases.jsonl").path()
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        let decoder = JSONDecoder()
        return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(CronVector.self, from: Data($0)) }
    }()
}
