import Foundation
import Testing

@testable import Cron

/// Every case of the croniter vectors, with mismatches reported by tag.
///
/// The only differences allowed are the deliberate ones of the decisions in
/// `Tests/Fixtures/cron-reference.md`, each whitelisted here by tag or expression with its reason.
@Suite struct CronVectorTests {
    /// Tags where we may return dates after croniter gave up (and only there), and why.
    static let whitelist: [String: String] = [
        "search_window": "croniter gives up after 50 years; we search every year up to 9999 (Q7)",
        "no_match_error": "where croniter raises CroniterBadDateError we may still find a date (Q3, Q7)",
    ]

    /// Tags also whitelisted in the default fold policy (`.once`), which differs from croniter on purpose.
    static let onceWhitelist: [String: String] = [
        "dst_fold": "DSTPolicy.once fires fixed-time schedules once in a fold; croniter fires them in both passes (Q9)",
    ]

    /// Expressions croniter rejects that we accept as extensions (section 4.3 of the decisions).
    static func isExtension(_ expression: String) -> Bool {
        let lowered = expression.lowercased()
        let fields = lowered.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if lowered.hasPrefix("@every ") { return true }
        guard fields.count >= 5 else { return false }
        let dayOfMonth = fields[2]
        let dayOfWeek = fields[4]
        if dayOfMonth == "lw" || dayOfMonth.hasPrefix("l-") { return true }
        if dayOfWeek.hasPrefix("+") { return true }
        return dayOfWeek.split(separator: ",").contains { item in
            item.hasSuffix("#l") || (item.count > 1 && item.hasSuffix("l") && Int(item.dropLast()) != nil)
                || (item.contains("#") && item.split(separator: "#")[0].split(separator: "-").count == 2
                    && item.split(separator: "#")[0].split(separator: "-").allSatisfy { Int($0) != nil })
        }
    }

    struct Mismatch: CustomStringConvertible {
        var vector: CronVector
        var detail: String
        /// Whether every date croniter gave agrees, and we only go on where it gave up.
        var onlyAfterCroniterGaveUp: Bool
        var description: String { "\(vector.id) \(vector.expr.debugDescription) \(vector.options) [\(vector.tags.joined(separator: ","))]: \(detail)" }
    }

    /// Runs one series case; returns what differs.
    static func check(_ vector: CronVector, dst: CronSchedule.DSTPolicy) -> Mismatch? {
        guard let zone = TimeZone(identifier: vector.tz ?? "UTC"), let startSeconds = vector.start_ts else {
            return Mismatch(vector: vector, detail: "bad vector", onlyAfterCroniterGaveUp: false)
        }
        let schedule: CronSchedule
        do {
            schedule = CronSchedule(try CronExpression(vector.expr, options: vector.expressionOptions), timeZone: zone, dst: dst)
        } catch {
            return Mismatch(vector: vector, detail: "rejected: \(error)", onlyAfterCroniterGaveUp: false)
        }
        let start = Date(timeIntervalSince1970: startSeconds)
        var problems: [String] = []
        var onlyAfterGiveUp = true
        for (direction, expected, failed) in [("next", vector.next ?? [], vector.next_error != nil), ("prev", vector.prev ?? [], vector.prev_error != nil)] {
            var cursor = start
            var got: [String] = []
            for _ in 0..<(expected.count + (failed ? 1 : 0)) {
                guard let date = direction == "next" ? schedule.next(after: cursor) : schedule.previous(before: cursor) else {
                    got.append("none")
                    break
                }
                got.append(schedule.localTimeString(date))
                cursor = date
            }
            let wanted = expected + (failed ? ["none"] : [])
            if got != wanted {
                problems.append("\(direction) expected \(wanted) got \(got)")
                if !(failed && Array(got.prefix(expected.count)) == expected) { onlyAfterGiveUp = false }
            }
        }
        guard !problems.isEmpty else { return nil }
        return Mismatch(vector: vector, detail: problems.joined(separator: "; "), onlyAfterCroniterGaveUp: onlyAfterGiveUp)
    }

    /// Mismatches grouped by tag: every tag of a failing case gets it.
    static func report(_ mismatches: [Mismatch], dst: CronSchedule.DSTPolicy) -> (unexplained: [Mismatch], text: String) {
        let allowed = dst == .croniter ? whitelist : whitelist.merging(onceWhitelist) { $1 }
        var byTag: [String: Int] = [:]
        var unexplained: [Mismatch] = []
        for mismatch in mismatches {
            for tag in mismatch.vector.tags { byTag[tag, default: 0] += 1 }
            let givingUpExplains = mismatch.onlyAfterCroniterGaveUp && mismatch.vector.tags.contains { whitelist[$0] != nil }
            let policyExplains = dst == .once && mismatch.vector.tags.contains { onceWhitelist[$0] != nil }
            if !givingUpExplains && !policyExplains {
                unexplained.append(mismatch)
            }
        }
        var text = "\(mismatches.count) mismatches, \(unexplained.count) unexplained\n"
        for (tag, count) in byTag.sorted(by: { $0.value > $1.value }) {
            text += "  \(tag): \(count)\(allowed[tag].map { " (allowed: \($0))" } ?? "")\n"
        }
        for mismatch in unexplained.prefix(40) { text += "  UNEXPLAINED \(mismatch)\n" }
        return (unexplained, text)
    }

    @Test func theVectorsAreThere() {
        #expect(CronVector.all.count > 4000, "Tests/Fixtures/cron-cases/cases.jsonl not found (or set CRON_CASES)")
    }

    @Test(arguments: CronSchedule.DSTPolicy.allCases)
    func seriesAgreeWithCroniter(dst: CronSchedule.DSTPolicy) {
        let series = CronVector.all.filter { $0.kind == "series" }
        let mismatches = series.compactMap { Self.check($0, dst: dst) }
        let (unexplained, text) = Self.report(mismatches, dst: dst)
        print("series (\(dst.rawValue)): \(series.count) cases; \(text)")
        #expect(series.count > 3000)
        #expect(unexplained.isEmpty, "\(text)")
    }

    @Test func invalidExpressionsAreRejected() {
        let invalid = CronVector.all.filter { $0.kind == "invalid" }
        var accepted: [String] = []
        var extensions = 0
        for vector in invalid {
            do {
                _ = try CronExpression(vector.expr, options: vector.expressionOptions)
                if Self.isExtension(vector.expr) {
                    extensions += 1
                } else {
                    accepted.append("\(vector.id) \(vector.expr.debugDescription) (croniter: \(vector.error ?? ""))")
                }
            } catch {
                // Rejected, as croniter does; rejectionsCarryCroniterErrorClass checks the class.
            }
        }
        print("invalid: \(invalid.count) cases, \(extensions) accepted as extensions")
        #expect(invalid.count > 200)
        #expect(accepted.isEmpty, "accepted what croniter rejects:\n\(accepted.joined(separator: "\n"))")
    }

    @Test func matchesAgreeWithCroniter() {
        let cases = CronVector.all.filter { $0.kind == "match" }
        var wrong: [String] = []
        for vector in cases {
            guard let zone = TimeZone(identifier: vector.tz ?? "UTC"), let at = vector.at, let date = parseISO(at) else {
                wrong.append("\(vector.id): bad vector")
                continue
            }
            do {
                let schedule = CronSchedule(try CronExpression(vector.expr, options: vector.expressionOptions), timeZone: zone, dst: .croniter)
                if schedule.matches(date) != vector.match {
                    wrong.append("\(vector.id) \(vector.expr) at \(at): expected \(vector.match ?? false)")
                }
            } catch {
                wrong.append("\(vector.id) \(vector.expr): rejected: \(error)")
            }
        }
        #expect(cases.count >= 300)
        #expect(wrong.isEmpty, "\(wrong.joined(separator: "\n"))")
    }

    func parseISO(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}

extension CronVectorTests {
    @Test func rejectionsCarryCroniterErrorClass() {
        var different: [String] = []
        for vector in CronVector.all where vector.kind == "invalid" {
            do {
                _ = try CronExpression(vector.expr, options: vector.expressionOptions)
            } catch {
                if error.kind.rawValue != vector.error {
                    different.append("\(vector.id) \(vector.expr.debugDescription): ours \(error.kind.rawValue), croniter \(vector.error ?? "")")
                }
            }
        }
        #expect(different.isEmpty, "\(different.count):\n\(different.joined(separator: "\n"))")
    }
}
