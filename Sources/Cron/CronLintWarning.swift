/// Something about a valid cron expression that probably does not mean what its author
/// thinks: croniter accepts it, so we do too, but say so.
public struct CronLintWarning: Sendable, Hashable, CustomStringConvertible {
    /// The kinds of surprise.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// `5-5`, `JAN-JAN`: croniter reads an equal range as the whole cycle.
        case equalRange = "equal-range"
        /// `50-10`, `fri-mon`: the range wraps around the end of the field.
        case wrappingRange = "wrapping-range"
        /// `0 0 10 * 5#2`: beside `#`, `L<d>` or `W`, the other day field is ignored.
        case specialDayIgnoresOtherField = "special-day-or"
        /// `0 0 1 * */2`: croniter ORs a `*`-prefixed day field where Vixie cron ANDs it.
        case starDayFieldIsOred = "star-day-or"
        /// `59/15`: a start at the field's maximum means only that value.
        case maxStartStep = "max-start-step"
        /// `0 0 30 2 *`: the schedule never fires.
        case neverFires = "never-fires"
        /// `*/7` in minutes: the step does not divide the field, so one gap is shorter.
        case unevenStep = "uneven-step"
        /// `R`: random per parse, so replicas disagree.
        case random = "random"
        /// `5#3,0-4,6`: plain weekdays beside `#`/`L` forms are ignored.
        case mixedNthFullWeek = "mixed-nth-full-week"
        /// A 6-field expression whose sixth field (seconds, in croniter) looks like a weekday.
        case secondsLookLikeWeekday = "seconds-look-like-weekday"
    }

    /// The kind of surprise.
    public var code: Code
    /// The field it is in, if any.
    public var field: CronField?
    /// The token concerned.
    public var token: String
    /// What happens, in a sentence.
    public var message: String

    public var description: String {
        let place = field.map { "\($0) " } ?? ""
        return "warning[\(code.rawValue)]: \(place)'\(token)': \(message)"
    }
}

extension CronExpression {
    /// The surprises of this expression, in field order.
    public var lintWarnings: [CronLintWarning] {
        var warnings = notes
        if days.isOr {
            if days.hasNth || days.hasSpecialMonthDay {
                warnings.append(CronLintWarning(
                    code: .specialDayIgnoresOtherField, field: .dayOfMonth, token: fieldTexts[.dayOfMonth] ?? "",
                    message: "with '#', 'L<d>' or 'W' on one day field, croniter ignores the other one (and cannot evaluate it at all when the two never coincide)"
                ))
            } else if (fieldTexts[.dayOfMonth] ?? "").hasPrefix("*") || (fieldTexts[.dayOfWeek] ?? "").hasPrefix("*") {
                warnings.append(CronLintWarning(
                    code: .starDayFieldIsOred, field: .dayOfWeek, token: fieldTexts[.dayOfWeek] ?? "",
                    message: "both day fields are restricted, so they are ORed (Vixie cron would AND a field starting with '*'); prefix day-of-week with '+' to AND them"
                ))
            }
        }
        if hasSeconds, !options.secondsFirst, fieldTexts[.year] == nil, let seconds = fieldTexts[.second], seconds != "0",
            seconds.split(whereSeparator: { $0 == "," || $0 == "-" }).allSatisfy({ (Int.ascii($0) ?? 99) <= 7 })
        {
            warnings.append(CronLintWarning(
                code: .secondsLookLikeWeekday, field: .second, token: seconds,
                message: "the sixth field is seconds (croniter's order), not a weekday or a leading seconds field"
            ))
        }
        if neverFires {
            warnings.append(CronLintWarning(code: .neverFires, field: nil, token: text, message: "this schedule never fires"))
        }
        return warnings.sorted { ($0.field?.rawValue ?? 99) < ($1.field?.rawValue ?? 99) }
    }
}
