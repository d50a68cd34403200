public import ArgumentParser
import Cron
import Foundation

/// `procrastinate cron`: inspect cron expressions.
struct CronCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "cron",
            abstract: "Inspect cron expressions (croniter's language, UTC by default).",
            subcommands: [Next.self, Previous.self, Check.self, Describe.self]
        )
    }

    /// The options `next` and `previous` share.
    struct ScheduleOptions: ParsableArguments {
        @Argument(help: "The cron expression, e.g. '*/5 * * * *' (quote it).")
        var expression: String

        @Option(name: [.short, .customLong("count")], parsing: .unconditional, help: "How many fire times to print.")
        var count = 5

        @Option(help: "Start from this time (ISO 8601; without an offset it is in --tz). Default: now.")
        var from: String?

        @Option(help: "IANA time zone of the schedule, e.g. Europe/Paris.")
        var tz = "UTC"

        @Option(help: "Fold policy when clocks go back: once runs an hour's times once, croniter in both passes.")
        var dst: CronSchedule.DSTPolicy = .once

        @Option(help: "Key that H hashes (croniter's hash_id).")
        var hashID: String?

        @Flag(help: "With 6 or 7 fields, the seconds field comes first.")
        var secondsFirst = false

        @Flag(help: "Print JSON.")
        var json = false

        func validate() throws {
            guard count > 0 else { throw ValidationError("--count must be at least 1") }
        }

        func schedule() throws -> CronSchedule {
            let zone: TimeZone
            do {
                zone = try TimeZone(named: tz)
            } catch {
                throw CommandError("\(error)")
            }
            let options = CronExpression.Options(hashID: hashID, secondsFirst: secondsFirst)
            return try CronSchedule(parsing: expression, options: options, timeZone: zone, dst: dst)
        }

        func start(in zone: TimeZone) throws -> Date {
            guard let from else { return Date() }
            return try parseTime(from, option: "--from", zone: zone)
        }

        func print(_ times: [Date], of schedule: CronSchedule) throws {
            let lines = times.map(schedule.localTimeString)
            if json {
                let report: [String: any Sendable] = [
                    "expression": schedule.expression.text, "time_zone": schedule.timeZoneName,
                    "dst": schedule.dst.rawValue, "times": lines,
                ]
                Swift.print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
            } else {
                lines.forEach { Swift.print($0) }
            }
        }
    }

    struct Next: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "Print the next fire times.",
                discussion: examples("cron next '30 2 * * *' --tz America/New_York --from 2024-03-09T00:00:00 --count 3", "cron next '* * * * * */10' --json")
            )
        }
        @OptionGroup var options: ScheduleOptions

        func run() throws {
            let schedule = try options.schedule()
            let times = schedule.dates(after: try options.start(in: schedule.timeZone)).prefix(options.count)
            try options.print(Array(times), of: schedule)
        }
    }

    struct Previous: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "Print the previous fire times, latest first.",
                discussion: examples("cron previous '0 9 * * mon-fri' --tz Europe/Paris --count 3")
            )
        }
        @OptionGroup var options: ScheduleOptions

        func run() throws {
            let schedule = try options.schedule()
            let times = schedule.dates(before: try options.start(in: schedule.timeZone)).prefix(options.count)
            try options.print(Array(times), of: schedule)
        }
    }

    struct Check: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "Validate an expression and show the surprises croniter's language allows.",
                discussion: """
                    Exit status 1 with the error when the expression is invalid; warnings do not fail.

                    \(examples("cron check '0 0 1 * */2'"))
                    """
            )
        }
        @Argument(help: "The cron expression.") var expression: String

        func run() throws {
            let parsed = try CronSchedule(parsing: expression).expression
            print("valid: \(parsed.englishDescription)")
            parsed.lintWarnings.forEach { print($0) }
        }
    }

    struct Describe: ParsableCommand {
        static var configuration: CommandConfiguration {
            CommandConfiguration(
                abstract: "Say in English what an expression means.",
                discussion: examples("cron describe '30 2 * * 5L'")
            )
        }
        @Argument(help: "The cron expression.") var expression: String

        func run() throws {
            print(try CronSchedule(parsing: expression).expression.englishDescription)
        }
    }
}

extension CronSchedule.DSTPolicy: ExpressibleByArgument {}

/// An ISO 8601 time; without a UTC offset, a wall-clock time in `zone`.
func parseTime(_ text: String, option: String, zone: TimeZone) throws -> Date {
    // With an offset, then without one (in `zone`); each with and without a fraction of a
    // second, which is kept (croniter's `previous` from 05:57:00.991 is 05:57:00).
    let local: ISO8601DateFormatter.Options = [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate]
    for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], local.union(.withFractionalSeconds), local] {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = options
        formatter.timeZone = zone
        if let date = formatter.date(from: text) {
            return date
        }
    }
    throw CommandError("\(option) '\(text)' is not an ISO 8601 time such as 2024-03-10T09:00:00+01:00")
}
