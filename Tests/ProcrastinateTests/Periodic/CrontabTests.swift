import Foundation
import Testing

@testable import Cron
@testable import Procrastinate

@Suite struct CrontabTests {
    func entries(_ text: String) throws -> [CrontabEntry] {
        try Crontab.parse(text, file: "test.crontab").get()
    }

    func errors(_ text: String) -> [String] {
        guard case .failure(let failure) = Crontab.parse(text, file: "test.crontab") else { return [] }
        return failure.errors.map(\.description)
    }

    @Test func readsEntriesWithSettingsOptionsAndArguments() throws {
        let parsed = try entries("""
            # maintenance
            CRON_TZ=Europe/Paris
            QUEUE=maintenance
            PRIORITY=3

            */5 * * * *            app.health
            0 3 * * * 30           app.vacuum     --lock=db --queueing-lock="one at a time"
            30 2 1 * *             app.report     --id=fr --priority=-1 {"country": "fr"}
            @daily                 app.rotate     --queue=default\r
            """)
        #expect(parsed.count == 4)
        #expect(parsed.map(\.taskName) == ["app.health", "app.vacuum", "app.report", "app.rotate"])
        #expect(parsed[0].schedule.timeZone.identifier == "Europe/Paris")
        #expect(parsed[0].options.queue == "maintenance" && parsed[0].options.priority == 3 && parsed[0].options.extraArguments == [:])
        #expect(parsed[1].schedule.expression.text == "0 3 * * * 30" && parsed[1].schedule.expression.hasSeconds)
        #expect(parsed[1].options.lock == "db" && parsed[1].options.queueingLock == "one at a time")
        #expect(parsed[2].periodicID == "fr" && parsed[2].options.priority == -1 && parsed[2].options.extraArguments == ["country": "fr"])
        #expect(parsed[3].options.queue == "default" && parsed[3].location.line == 9)
    }

    @Test func settingsResetAtEachFileAndDefaultToUTC() throws {
        let loaded = try Crontab.merge(files: [
            ("a.crontab", "CRON_TZ=Asia/Tokyo\nQUEUE=a\n0 0 * * * first\n"),
            ("b.crontab", "0 0 * * * second\n"),
        ])
        #expect(loaded.map(\.schedule.timeZone) == [TimeZone(identifier: "Asia/Tokyo")!, CronSchedule.utc])
        #expect(loaded.map(\.options.queue) == ["a", nil])
    }

    @Test func dstSetting() throws {
        #expect(try entries("DST=croniter\n0 1 * * * t\n")[0].schedule.dst == .croniter)
        #expect(try entries("DST=vixie\n0 1 * * * t\n")[0].schedule.dst == .once)
    }

    @Test func hashesTheTaskAndItsID() throws {
        let parsed = try entries("H H * * * app.a --id=x\nH H * * * app.a --id=y\n")
        let expected = try CronExpression("H H * * *", options: .init(hashID: "app.a|x"))
        #expect(parsed[0].schedule.expression.fieldTexts == expected.fieldTexts)
        #expect(parsed[0].schedule.expression.fieldTexts != parsed[1].schedule.expression.fieldTexts)
    }

    @Test func reportsEveryMistakeWithItsPlace() {
        let reported = errors("""
            MAILTO=me@example.com
            CRON_TZ=Mars/Olympus
            0 0 * * * app.a --queu=x
            61 0 * * * app.b
            0 0 * * * app.c {"timestamp": 1}
            0 0 * * * app.d {"a": 1
            @reboot app.e
            0 0 * * * 9lives
            0 0 * * * app.f --priority=high
            QUEUE=x # trailing comment
            0 0 * *
            0 0 * * * app.g --id=a --id=b
            """)
        #expect(reported == [
            "test.crontab:1:1: unknown setting MAILTO (expected CRON_TZ, TZ, QUEUE, PRIORITY or DST)",
            "test.crontab:2:9: unknown time zone 'Mars/Olympus' (expected an IANA name such as Europe/Paris)",
            "test.crontab:3:17: unknown option --queu (expected --id, --queue, --lock, --queueing-lock or --priority)",
            "test.crontab:4:1: invalid schedule: minute '61': 61 is outside 0-59",
            "test.crontab:5:17: 'timestamp' is reserved: the tick's time is passed under that name",
            "test.crontab:6:17: the task arguments are not valid JSON (one JSON object, to the end of the line)",
            "test.crontab:7:1: @reboot is not meaningful for a task queue",
            "test.crontab:8:11: '9lives' is not a task name (letters, digits, '_', '.', ':' and '-')",
            "test.crontab:9:17: --priority must be an integer, not 'high'",
            "test.crontab:10:9: a comment cannot follow a value on the same line; put it on its own line",
            "test.crontab:11:8: incomplete schedule: expected 5 fields, then a task name",
            "test.crontab:12:24: --id is given twice",
        ])
    }

    @Test func aScheduleErrorPointsAtTheFieldInTheLine() {
        #expect(errors("0   0   *   *   5#6   app.a") == [
            "test.crontab:1:17: invalid schedule: day-of-week '5#6': the nth weekday must be 1 to 5",
        ])
    }

    @Test func theSameTaskAndIDTwiceAcrossFilesIsAnError() {
        #expect(throws: CrontabErrors.self) {
            try Crontab.merge(files: [("a.crontab", "0 0 * * * app.a\n"), ("b.crontab", "0 1 * * * app.a\n")])
        }
        do {
            _ = try Crontab.merge(files: [("a.crontab", "0 0 * * * app.a\n"), ("b.crontab", "0 1 * * * app.a\n")])
        } catch {
            #expect(error.description == #"b.crontab:1:1: app.a with --id="" is already scheduled at a.crontab:1:1; give each line of one task its own --id"#)
        }
    }

    @Test func theShippedExamplesLoad() throws {
        let directory = URL(filePath: Repository.crontabs)
        let loaded = try Crontab.load(directory: directory)
        #expect(loaded.map(\.taskName) == [
            "example.heartbeat", "example.sync_inbox", "example.report", "example.report", "example.office_digest",
        ])
        #expect(loaded[4].schedule.timeZone.identifier == "Europe/Paris")
        #expect(loaded[2].options.queue == "reports" && loaded[1].options.queue == nil)
    }

    @Test func loadingAMissingDirectoryFails() {
        #expect(throws: CrontabErrors.self) { try Crontab.load(directory: URL(filePath: "/no/such/dir")) }
    }
}
