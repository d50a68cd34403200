import Foundation
import Procrastinate
import Testing

/// An application's own executable (`Tests/TestWorker`, built on `ProcrastinateCommand.main`)
/// against the standalone `procrastinate`: the same database resolution for every command.
@Suite struct EmbeddedCommandTests {
    /// Commands that read the database: the subcommand, then its arguments (the database
    /// option goes between them, before what the shell passes through).
    static let readingCommands: [(command: [String], arguments: [String])] = [
        (["jobs", "list"], []), (["jobs", "list"], ["--json"]), (["jobs", "show"], ["1"]), (["queues"], []),
        (["tasks"], ["--json"]), (["locks"], []), (["workers"], []), (["shell"], ["list_jobs"]), (["shell"], ["list_queues"]),
        (["healthchecks"], []),
    ]

    @Test func everyCommandOfAnApplicationsExecutableHonoursDatabaseURL() async throws {
        try await TestDatabase.withDatabase { home in
            try await TestDatabase.withDatabase { other in
                _ = try await home.deferJob(queue: "home", task: "sleepy", lock: "home-lock", args: #"{"seconds": 0}"#)
                _ = try await other.deferJob(queue: "other", task: "sleepy", lock: "other-lock", args: #"{"seconds": 0}"#)
                let environment = ["PROCRASTINATE_DATABASE_URL": try home.testURL]
                let url = try other.testURL
                for (command, arguments) in Self.readingCommands {
                    let line = command + ["--database-url", url] + arguments
                    let standalone = try await CommandLineRunner.run(line, environment: environment)
                    let embedded = try await CommandLineRunner.run(line, executable: "TestWorker", environment: environment)
                    #expect(standalone.status == 0, "\(command): \(standalone.standardError)")
                    #expect(embedded.status == standalone.status, "\(command): \(embedded.standardError)")
                    #expect(embedded.standardOutput == standalone.standardOutput, "\(command)")
                    #expect(!embedded.standardOutput.contains("home"), "\(command) read the environment's database")
                }
                // Writing commands act on the database named too.
                let deferred = try await CommandLineRunner.run(
                    ["defer", "sleepy", #"{"seconds": 0}"#, "--queue", "other", "--database-url", url], executable: "TestWorker",
                    environment: environment
                )
                #expect(deferred.status == 0, "\(deferred.standardError)")
                let worked = try await CommandLineRunner.run(
                    ["worker", "--one-shot", "--database-url", url], executable: "TestWorker", environment: environment
                )
                #expect(worked.status == 0, "\(worked.standardError)")
                #expect(try await App(connector: other).jobManager.listJobs(JobFilter(status: .succeeded)).count == 2)
                #expect(try await App(connector: home).jobManager.listJobs(JobFilter(status: .todo)).count == 1)
            }
        }
    }

    @Test func theStandaloneWorkerWithoutTasksRefusesToStart() async throws {
        try await TestDatabase.withDatabase { db in
            let id = try await db.deferJob(task: "an_apps_task")
            for flags in [[], ["--claim-unknown-tasks"]] {
                let output = try await CommandLineRunner.run(
                    ["worker", "--one-shot"] + flags, environment: ["PROCRASTINATE_DATABASE_URL": try db.testURL]
                )
                #expect(output.status == 1)
                #expect(output.standardError.contains("this executable has no tasks"), "\(output.standardError)")
                #expect(output.standardError.contains("ProcrastinateCommand.main"))
            }
            #expect(try await db.jobState(id)?.status == "todo")
        }
    }

    @Test func aOneShotShellCommandThatFailsExitsWithStatus1() async throws {
        try await TestDatabase.withDatabase { db in
            let environment = ["PROCRASTINATE_DATABASE_URL": try db.testURL]
            let missing = try await CommandLineRunner.run(["shell", "retry", "999"], environment: environment)
            #expect(missing.status == 1 && missing.standardError.contains("Error:"), "\(missing.standardError)")
            let unknown = try await CommandLineRunner.run(["shell", "no_such_command"], environment: environment)
            #expect(unknown.status == 1 && unknown.standardOutput.contains("*** Unknown syntax"))
            let fine = try await CommandLineRunner.run(["shell", "list_jobs"], environment: environment)
            #expect(fine.status == 0)
        }
    }
}
