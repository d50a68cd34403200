import Cron
import Foundation
import Testing

/// `procrastinate cron …` and `procrastinate crontab …`, run as an executable.
@Suite struct CronCommandTests {
    @Test func nextPrintsTheLibrarysInstantsWithOffsets() async throws {
        let output = try await CommandLineRunner.run([
            "cron", "next", "30 2 * * *", "--tz", "America/New_York", "--from", "2024-03-09T00:00:00", "--count", "3",
        ])
        #expect(output.status == 0, "\(output.standardError)")
        let zone = try #require(TimeZone(identifier: "America/New_York"))
        let schedule = try CronSchedule(parsing: "30 2 * * *", timeZone: zone)
        let start = try #require(ISO8601DateFormatter().date(from: "2024-03-09T05:00:00Z"))
        let library = schedule.dates(after: start).prefix(3).map(schedule.localTimeString)
        #expect(output.standardOutput == library.map { $0 + "\n" }.joined())
        #expect(library == ["2024-03-09T02:30:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00"])
    }

    @Test func previousAndJSON() async throws {
        let output = try await CommandLineRunner.run([
            "cron", "previous", "0 1 * * *", "--tz", "America/New_York", "--dst", "croniter",
            "--from", "2024-11-03T03:00:00-05:00", "-c", "2", "--json",
        ])
        #expect(output.status == 0, "\(output.standardError)")
        #expect(output.standardOutput == #"{"dst":"croniter","expression":"0 1 * * *","time_zone":"America/New_York","times":["2024-11-03T01:00:00-05:00","2024-11-03T01:00:00-04:00"]}"# + "\n")
    }

    @Test func aFractionOfASecondInFromIsKept() async throws {
        // croniter: the minute before 05:57:00.991 is 05:57:00, in UTC and with a local time alike.
        for from in ["2026-02-25T05:57:00.991Z", "2026-02-25T05:57:00.991"] {
            let output = try await CommandLineRunner.run(["cron", "previous", "* * * * *", "--from", from, "-c", "1"])
            #expect(output.status == 0, "\(output.standardError)")
            #expect(output.standardOutput == "2026-02-25T05:57:00+00:00\n", "from \(from)")
        }
    }

    @Test func crontabNicknamesFireAtTheirPlainTimesWithoutAWarning() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "crontabs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "@daily app.report\n@hourly app.report --id=h\n".write(to: directory.appending(path: "a.crontab"), atomically: true, encoding: .utf8)
        let check = try await CommandLineRunner.run(["crontab", "check", directory.path])
        #expect(check.status == 0, "\(check.standardError)")
        #expect(!check.standardOutput.contains("warning"), "\(check.standardOutput)")
        let next = try await CommandLineRunner.run(["crontab", "next", directory.path, "--from", "2024-03-11T10:20:00Z", "-c", "1"])
        #expect(next.standardOutput.contains("  2024-03-12T00:00:00+00:00\n"), "\(next.standardOutput)")
        #expect(next.standardOutput.contains("  2024-03-11T11:00:00+00:00\n"), "\(next.standardOutput)")
    }

    @Test func checkShowsWarningsAndFailsOnErrors() async throws {
        let valid = try await CommandLineRunner.run(["cron", "check", "5-5 * * * *"])
        #expect(valid.status == 0)
        #expect(valid.standardOutput.hasPrefix("valid: every minute\nwarning[equal-range]: minute '5-5'"))
        let invalid = try await CommandLineRunner.run(["cron", "check", "0 0 * * 5#6"])
        #expect(invalid.status == 1)
        #expect(invalid.standardError == "Error: day-of-week: '5#6' at column 9: the nth weekday must be 1 to 5\n")
    }

    @Test func describe() async throws {
        let output = try await CommandLineRunner.run(["cron", "describe", "30 2 * * 5L"])
        #expect(output.standardOutput == "at 02:30 on the last Friday of every month\n")
    }

    @Test func badOptionsAreNamed() async throws {
        let zone = try await CommandLineRunner.run(["cron", "next", "* * * * *", "--tz", "Mars/Olympus"])
        #expect(zone.status == 1)
        #expect(zone.standardError == "Error: unknown time zone 'Mars/Olympus' (expected an IANA name such as Europe/Paris)\n")
        let from = try await CommandLineRunner.run(["cron", "next", "* * * * *", "--from", "yesterday"])
        #expect(from.status == 1)
        #expect(from.standardError == "Error: --from 'yesterday' is not an ISO 8601 time such as 2024-03-10T09:00:00+01:00\n")
    }

    @Test func crontabCheckAndNextOnTheShippedFiles() async throws {
        let check = try await CommandLineRunner.run(["crontab", "check", Repository.crontabs])
        #expect(check.status == 0, "\(check.standardError)")
        #expect(check.standardOutput.hasSuffix("5 entries in 1 file: OK\n"))
        let next = try await CommandLineRunner.run(["crontab", "next", Repository.crontabs, "--from", "2024-03-11T00:00:00Z", "-c", "1"])
        #expect(next.status == 0)
        #expect(next.standardOutput.contains("example.crontab:18 example.office_digest: */15 9-17 * * mon-fri (Europe/Paris)\n  2024-03-11T09:00:00+01:00\n"))
        #expect(next.standardOutput.contains("example.report --id=de: * * * * * (UTC)\n  2024-03-11T00:01:00+00:00\n"))
    }

    @Test func crontabCheckReportsEveryMistake() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "crontab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "0 0 * * * app.a\n61 * * * * app.b\n".write(to: directory.appending(path: "a.crontab"), atomically: true, encoding: .utf8)
        try "FOO=1\n".write(to: directory.appending(path: "b.crontab"), atomically: true, encoding: .utf8)
        let output = try await CommandLineRunner.run(["crontab", "check", directory.path()])
        #expect(output.status == 1)
        let a = directory.appending(path: "a.crontab").path()
        let b = directory.appending(path: "b.crontab").path()
        #expect(output.standardError == """
            Error: \(a):2:1: invalid schedule: minute '61': 61 is outside 0-59
            \(b):1:1: unknown setting FOO (expected CRON_TZ, TZ, QUEUE, PRIORITY or DST)

            """)
    }
}
