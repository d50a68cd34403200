import Foundation
import Procrastinate
import Testing

/// The command line inside an application's own executable (`Tests/TestWorker`): logging,
/// crontab checks and deferring know the application.
@Suite struct ApplicationExecutableTests {
    @Test func theLoggingOptionsReachTheApplicationsLogs() async throws {
        try await TestDatabase.withDatabase { db in
            let environment = ["PROCRASTINATE_DATABASE_URL": try db.testURL, "TEST_WORKER_PERIODIC": "1"]
            let deferred = try await CommandLineRunner.run(["defer", "chatty", "{}"], executable: "TestWorker", environment: environment)
            #expect(deferred.status == 0, "\(deferred.standardError)")
            let worked = try await CommandLineRunner.run(
                ["worker", "--one-shot", "--log-format", "json", "--log-level", "info", "--queues", "default"],
                executable: "TestWorker", environment: environment
            )
            #expect(worked.status == 0, "\(worked.standardError)")
            let lines = worked.standardError.split(separator: "\n").map(String.init)
            let records = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(records.count == lines.count, "every line is JSON: \(worked.standardError)")
            let fromTheJob = try #require(records.first { $0["message"] as? String == "chatty says hi" })
            #expect(fromTheJob["task"] as? String == "chatty" && fromTheJob["job_id"] != nil && fromTheJob["attempt"] as? String == "1")
            #expect(records.contains { $0["message"] as? String == "the application's own logger says hi" })
            // Registration is not news: nothing at info about it.
            #expect(!worked.standardError.contains("Registered periodic task"))

            let quiet = try await CommandLineRunner.run(["jobs", "list", "--log-level", "info"], executable: "TestWorker", environment: environment)
            #expect(quiet.standardError.isEmpty, "\(quiet.standardError)")
        }
    }

    @Test func crontabCheckKnowsTheExecutablesTasksAndReportsEveryMistakeAtOnce() async throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "crontabs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try """
            0 3 * * * typed --id=nightly {"count": 3}
            0 4 * * * no_such_task
            61 * * * * typed --id=bad
            0 5 * * * typed --id=wrong {"count": "three"}

            """.write(to: folder.appending(path: "jobs.crontab"), atomically: true, encoding: .utf8)

        let checked = try await CommandLineRunner.run(["crontab", "check", folder.path], executable: "TestWorker")
        #expect(checked.status == 1)
        let errors = checked.standardError.split(separator: "\n")
        #expect(errors.count == 3, "\(checked.standardError)")
        #expect(errors.first?.contains("jobs.crontab:2:") == true && errors.first?.contains("unknown task 'no_such_task'") == true)
        #expect(errors.contains { $0.contains("jobs.crontab:3:") })
        #expect(errors.contains { $0.contains("jobs.crontab:4:") && $0.contains("count") })
        #expect(!checked.standardError.contains("Fatal error"))

        // The standalone executable knows no tasks: it checks the syntax only.
        let standalone = try await CommandLineRunner.run(["crontab", "check", folder.path])
        #expect(standalone.status == 1 && standalone.standardError.split(separator: "\n").count == 1, "\(standalone.standardError)")

        let missing = try await CommandLineRunner.run(["crontab", "check", folder.appending(path: "none").path])
        #expect(missing.standardError == "Error: \(folder.appending(path: "none").path): no such directory\n")
    }

    @Test func deferChecksAKnownTasksArgumentsBeforeInserting() async throws {
        try await TestDatabase.withDatabase { db in
            let environment = ["PROCRASTINATE_DATABASE_URL": try db.testURL]
            let refused = try await CommandLineRunner.run(["defer", "typed", #"{"count": "five"}"#], executable: "TestWorker", environment: environment)
            #expect(refused.status == 1)
            #expect(refused.standardError.contains("typed") && refused.standardError.contains("count"), "\(refused.standardError)")
            #expect(try await App(connector: db).jobManager.listJobs().isEmpty)
            let accepted = try await CommandLineRunner.run(["defer", "typed", #"{"count": 5}"#], executable: "TestWorker", environment: environment)
            #expect(accepted.status == 0, "\(accepted.standardError)")
        }
    }

    @Test func deferNamesAnUnknownKeyAndWhereANumberDoesNotFit() async throws {
        try await TestDatabase.withDatabase { db in
            let environment = ["PROCRASTINATE_DATABASE_URL": try db.testURL]
            let typo = try await CommandLineRunner.run(["defer", "typed", #"{"count": 5, "lable": "x"}"#], executable: "TestWorker", environment: environment)
            #expect(typo.status == 1)
            #expect(typo.standardError.contains("arguments of task 'typed' at 'lable': unknown key 'lable' (it reads 'count', 'label')"), "\(typo.standardError)")
            #expect(!typo.standardError.contains("Launch"), "nothing is launched")
            let fraction = try await CommandLineRunner.run(["defer", "typed", #"{"count": 1.5}"#], executable: "TestWorker", environment: environment)
            #expect(fraction.standardError.contains("arguments of task 'typed' at 'count': expected Int, found the number 1.5"), "\(fraction.standardError)")
            let huge = try await CommandLineRunner.run(["defer", "typed", #"{"count": 99999999999999999999}"#], executable: "TestWorker", environment: environment)
            #expect(huge.standardError.contains("at 'count': expected Int, found the number"), "\(huge.standardError)")
            // A null for a field the type lacks is no mistake: it reads as missing.
            let null = try await CommandLineRunner.run(["defer", "typed", #"{"count": 5, "other": null}"#], executable: "TestWorker", environment: environment)
            #expect(null.status == 0, "\(null.standardError)")
            #expect(try await App(connector: db).jobManager.listJobs().count == 1)
        }
    }

    @Test func theSchemaErrorNamesTheExecutableThatRunsIt() async throws {
        try await TestDatabase.withDatabase(nil) { db in
            let environment = ["PROCRASTINATE_DATABASE_URL": try db.testURL]
            let listed = try await CommandLineRunner.run(["jobs", "list"], executable: "TestWorker", environment: environment)
            #expect(listed.status == 1)
            #expect(listed.standardError.contains("has no Procrastinate schema: run `TestWorker schema --apply`"), "\(listed.standardError)")
        }
        let empty = try await CommandLineRunner.run(["jobs", "list", "--database-url", ""])
        #expect(empty.status == 1)
        #expect(empty.standardError.contains("invalid database URL '': it is empty"), "\(empty.standardError)")
    }

    @Test func emptyListingsSaySoAndMissingJobsAreNamedOneWay() async throws {
        try await TestDatabase.withDatabase { db in
            let environment = ["PROCRASTINATE_DATABASE_URL": try db.testURL]
            for (command, expected) in [(["jobs", "list"], "No jobs\n"), (["jobs", "list", "--queue", "x"], "No jobs match these filters\n"),
                                        (["queues"], "No jobs\n"), (["locks"], "No jobs\n"), (["workers"], "No workers registered\n")] {
                let output = try await CommandLineRunner.run(command, environment: environment)
                #expect(output.standardOutput == expected, "\(command)")
            }
            for command in [["jobs", "show", "42"], ["jobs", "cancel", "42"], ["jobs", "abort", "42"], ["jobs", "retry", "42"], ["shell", "retry", "42"]] {
                let output = try await CommandLineRunner.run(command, environment: environment)
                #expect(output.status == 1, "\(command)")
                #expect(output.standardError.contains("no job with id 42"), "\(command): \(output.standardError)")
            }
        }
    }
}
