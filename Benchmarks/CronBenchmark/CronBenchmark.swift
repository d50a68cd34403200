// Times cron parsing and next-fire computation and prints a JSON report.
//
//   swift run -c release CronBenchmark [path/to/cases.jsonl] [--only WORKLOAD]
//
// The expressions are those of the croniter test vectors (`Tests/Fixtures/cron-cases/cases.jsonl`
// by default, or CRON_CASES), plus a set of typical 5-field schedules.
import Cron
import Foundation

@main
enum CronBenchmark {
    static let typical = [
        "*/5 * * * *", "0 * * * *", "30 2 * * *", "0 9 * * mon-fri", "15,45 8-18 * * 1-5",
        "0 0 1 * *", "0 */2 * * *", "0 0 * * 0", "*/15 9-17 * * *", "0 12 1,15 * *",
    ]

    struct Case {
        var expression: String
        var options: CronExpression.Options
        var zone: TimeZone
    }

    static func main() throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var only: String?
        if let flag = arguments.firstIndex(of: "--only"), flag + 1 < arguments.count {
            only = arguments[flag + 1]
            arguments.removeSubrange(flag...flag + 1)
        }
        let path = arguments.first ?? ProcessInfo.processInfo.environment["CRON_CASES"]
            ?? URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../Tests/Fixtures/cron-cases/cases.jsonl").path()
        let cases = try loadCases(path)
        let utcCases = cases.filter { $0.zone == CronSchedule.utc }
        let zonedCases = cases.filter { $0.zone != CronSchedule.utc }
        let start = Date(timeIntervalSince1970: 1_700_000_000)

        let workloads: [(String, () -> Double)] = [
            ("parse_per_s", { parseRate(cases) }),
            ("next_utc_typical_per_s", {
                nextRate(typical.map { Case(expression: $0, options: .init(), zone: CronSchedule.utc) }, from: start)
            }),
            ("next_utc_vectors_per_s", { nextRate(utcCases, from: start) }),
            ("next_zoned_vectors_per_s", { nextRate(zonedCases, from: start) }),
        ]
        var report: [String: Any] = [
            "schema": "cron-bench/1",
            "cases": ["total": cases.count, "utc": utcCases.count, "zoned": zonedCases.count],
            "cores_used": 1,
            "build": "release",
        ]
        for (name, run) in workloads where only == nil || name.hasPrefix(only!) {
            report[name] = run()
        }
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted])
        print(String(decoding: data, as: UTF8.self))
    }

    /// Parses per second, over the vectors' expressions.
    static func parseRate(_ cases: [Case]) -> Double {
        measure { count in
                var parsed = 0
                while parsed < count {
                    for item in cases where parsed < count {
                        _ = try? CronExpression(item.expression, options: item.options)
                        parsed += 1
                    }
                }
        }
    }

    /// Next fire times per second, following each schedule forward from `start`.
    static func nextRate(_ cases: [Case], from start: Date) -> Double {
        let schedules = cases.compactMap { item in
            (try? CronExpression(item.expression, options: item.options)).map { CronSchedule($0, timeZone: item.zone) }
        }
        .filter { !$0.expression.neverFires }
        return measure { count in
            var done = 0
            var checksum = 0.0
            while done < count {
                for schedule in schedules where done < count {
                    var cursor = start
                    for _ in 0..<10 {
                        guard let next = schedule.next(after: cursor) else { break }
                        cursor = next
                        done += 1
                    }
                    checksum += cursor.timeIntervalSince1970
                }
            }
            if checksum == 42 { print("") }  // keeps the work observable
        }
    }

    /// Operations per second of `body(count)`, doubling count until a run takes a second.
    static func measure(_ body: (Int) -> Void) -> Double {
        var count = 1000
        while true {
            let clock = ContinuousClock()
            let elapsed = clock.measure { body(count) }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            if seconds >= 1 || count > 1 << 30 {
                return (Double(count) / seconds).rounded()
            }
            count *= 2
        }
    }

    static func loadCases(_ path: String) throws -> [Case] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BenchmarkError(description: "cannot read \(path): pass the path of cases.jsonl or set CRON_CASES")
        }
        var cases: [Case] = []
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                object["kind"] as? String == "series", let expression = object["expr"] as? String,
                let options = object["options"] as? [String: Any], let zone = TimeZone(identifier: object["tz"] as? String ?? "UTC")
            else { continue }
            cases.append(Case(
                expression: expression,
                options: .init(
                    dayOr: options["day_or"] as? Bool ?? true, hashID: options["hash_id"] as? String,
                    secondsFirst: options["second_at_beginning"] as? Bool ?? false
                ),
                zone: zone
            ))
        }
        return cases
    }

    struct BenchmarkError: Error, CustomStringConvertible {
        var description: String
    }
}
