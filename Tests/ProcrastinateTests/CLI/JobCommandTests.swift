import Foundation
import Procrastinate
import Testing

/// `defer`, `shell`, `jobs`, `queues`, `tasks`, `locks`, `workers` and `worker`, run as executables.
@Suite struct JobCommandTests {
    func run(_ arguments: [String], in db: PostgresConnector, executable: String = "procrastinate", input: String? = nil) async throws
        -> CommandLineRunner.Output
    {
        try await CommandLineRunner.run(
            arguments, executable: executable, environment: ["PROCRASTINATE_DATABASE_URL": try db.testURL], input: input
        )
    }

    @Test func deferWithEveryOption() async throws {
        try await TestDatabase.withDatabase { db in
            let output = try await run(
                ["defer", "sum", #"{"a": 3, "b": 5}"#, "--unknown", "--queue", "math", "--lock", "L", "--queueing-lock", "q",
                 "--priority", "7", "--at", "2096-10-02T07:06:40Z"],
                in: db
            )
            #expect(output.status == 0, "\(output.standardError)")
            #expect(output.standardError == "Launched a job: sum(a=3, b=5)\n")
            let id = try #require(Int64(output.standardOutput.trimmingCharacters(in: .newlines)))
            let job = try #require(try await App(connector: db).jobManager.job(id: id))
            #expect(job.queue == "math" && job.lock == "L" && job.queueingLock == "q" && job.priority == 7)
            #expect(job.scheduledAt == Date(timeIntervalSince1970: 4_000_000_000))

            let later = try await run(["defer", "sum", "--unknown", "--in", "60"], in: db)
            #expect(later.status == 0)
        }
    }

    @Test func deferErrors() async throws {
        try await TestDatabase.withDatabase { db in
            let unknown = try await run(["defer", "sum", "{}"], in: db)
            #expect(unknown.status == 1)
            #expect(unknown.standardError.hasSuffix("Error: unknown task 'sum' (no task is registered); register it, or allow unknown tasks (`--unknown` on the command line)\n"))

            let json = try await run(["defer", "sum", "[1]", "--unknown"], in: db)
            #expect(json.status == 1)
            #expect(json.standardError == "Error: incorrect JSON_ARGS value '[1]': expected a JSON object such as '{\"a\": 1}'\n")

            let both = try await run(["defer", "sum", "--unknown", "--in", "1", "--at", "2030-01-01T00:00:00Z"], in: db)
            #expect(both.status == 1 && both.standardError == "Error: give --at or --in, not both\n")

            #expect(try await run(["defer", "sum", "--unknown", "--queueing-lock", "k"], in: db).status == 0)
            let taken = try await run(["defer", "sum", "--unknown", "--queueing-lock", "k"], in: db)
            #expect(taken.status == 1)
            #expect(taken.standardError.hasSuffix("Error: Job cannot be enqueued: there is already a job in the queue with the queueing lock k\n"))
            let ignored = try await run(["defer", "sum", "--unknown", "--queueing-lock", "k", "--ignore-already-enqueued"], in: db)
            #expect(ignored.status == 0)
            #expect(ignored.standardError.hasSuffix("there is already a job in the queue with the queueing lock k (ignored)\n"))
        }
    }

    /// Jobs in several states, deferred through the API.
    func seed(_ db: PostgresConnector) async throws -> (todo: Int64, failed: Int64) {
        let app = App(connector: db, logger: TestDatabase.logger)
        let todo = try await app.configureTask(name: "sum", lock: "L").defer(["a": 1, "s": "it's", "n": nil, "t": true])
        let failed = try await app.configureTask(name: "mail", queue: "emails").defer(["to": "a@b.c"])
        _ = try await db.fetchJob(queues: ["emails"], workerID: nil)
        try await db.finishJob(id: failed, status: .failed, deleteJob: false)
        return (todo, failed)
    }

    @Test func shellCommandsOneShotAndInteractive() async throws {
        try await TestDatabase.withDatabase { db in
            let (todo, failed) = try await seed(db)
            let list = try await run(["shell", "list_jobs", "details"], in: db)
            #expect(list.status == 0)
            #expect(list.standardOutput == """
                #\(todo) sum on default - [todo] (attempts=0, priority=0, scheduled_at=None, args={'a': 1, 'n': None, 's': "it's", 't': True}, lock=L)
                #\(failed) mail on emails - [failed] (attempts=1, priority=0, scheduled_at=None, args={'to': 'a@b.c'}, lock=None)

                """)
            let queues = try await run(["shell", "list_queues"], in: db)
            #expect(queues.standardOutput == """
                default: 1 jobs (todo: 1, doing: 0, succeeded: 0, failed: 0, cancelled: 0, aborted: 0)
                emails: 1 jobs (todo: 0, doing: 0, succeeded: 0, failed: 1, cancelled: 0, aborted: 0)

                """)
            let retried = try await run(["shell", "retry", "\(failed)"], in: db)
            #expect(retried.standardOutput == "#\(failed) mail on emails - [todo]\n")

            let session = try await run(["shell"], in: db, input: "list_tasks status=todo\ncancel \(todo)\nlist_locks\nnonsense\n")
            #expect(session.status == 0)
            #expect(session.standardOutput == """
                mail: 1 jobs (todo: 1, doing: 0, succeeded: 0, failed: 0, cancelled: 0, aborted: 0)
                sum: 1 jobs (todo: 1, doing: 0, succeeded: 0, failed: 0, cancelled: 0, aborted: 0)
                #\(todo) sum on default - [cancelled]
                L: 1 jobs (todo: 0, doing: 0, succeeded: 0, failed: 0, cancelled: 1, aborted: 0)
                *** Unknown syntax: nonsense

                """)
            let help = try await run(["shell", "help"], in: db)
            #expect(help.standardOutput.contains("EOF  cancel  exit  help  list_jobs  list_limits  list_locks  list_queues  list_tasks  pause_queue  resume_queue  retry"))
        }
    }

    @Test func jobsSubcommandsWithTextAndJSON() async throws {
        try await TestDatabase.withDatabase { db in
            let (todo, failed) = try await seed(db)
            let list = try await run(["jobs", "list", "--status", "failed", "--json"], in: db)
            #expect(list.status == 0)
            let jobs = try #require(try JSONSerialization.jsonObject(with: Data(list.standardOutput.utf8)) as? [[String: Any]])
            #expect(jobs.count == 1 && jobs[0]["id"] as? Int == Int(failed) && jobs[0]["task"] as? String == "mail")
            #expect((jobs[0]["args"] as? [String: String]) == ["to": "a@b.c"])

            let show = try await run(["jobs", "show", "\(todo)"], in: db)
            #expect(show.standardOutput.hasPrefix("#\(todo) sum on default - [todo] (attempts=0"))
            let missing = try await run(["jobs", "show", "999999"], in: db)
            #expect(missing.status == 1 && missing.standardError == "Error: no job with id 999999\n")

            let retry = try await run(["jobs", "retry", "\(failed)", "--queue", "slow", "--priority=-1"], in: db)
            #expect(retry.status == 0 && retry.standardOutput == "Retrying job \(failed)\n")
            let abort = try await run(["jobs", "abort", "\(failed)"], in: db)
            #expect(abort.standardOutput == "Abort requested for job \(failed)\n")
            let cancel = try await run(["jobs", "cancel", "\(todo)", "--delete"], in: db)
            #expect(cancel.standardOutput == "Deleted job \(todo)\n")
            let again = try await run(["jobs", "cancel", "\(todo)"], in: db)
            #expect(again.status == 1 && again.standardError == "Error: no job with id \(todo)\n")
            let job = try #require(try await App(connector: db).jobManager.job(id: failed))
            #expect(job.status == .cancelled && job.queue == "slow" && job.priority == -1)
            let ended = try await run(["jobs", "cancel", "\(failed)"], in: db)
            #expect(ended.status == 1 && ended.standardError == "Error: job \(failed) is not waiting: it is cancelled\n")
        }
    }

    @Test func showAndListDetailsGiveEachFailedAttemptsError() async throws {
        try await TestDatabase.withDatabase { db in
            let id = try await App(connector: db).configureTask(name: "pay").defer([:])
            for attempt in [0, 1] {
                _ = try await db.fetchJob(queues: nil, workerID: nil)
                var outcome = JobOutcome(jobID: id, retry: RetryDecision(retryAt: Date()), attempts: attempt)
                outcome.error = JobError.Cause(type: "Billing.Declined", message: "card declined \(attempt + 1)")
                _ = try await db.finishJobs([outcome])
            }
            let show = try await run(["jobs", "show", "\(id)"], in: db)
            let lines = show.standardOutput.split(separator: "\n")
            #expect(lines.count == 3, "\(show.standardOutput)")
            #expect(lines.dropFirst().first?.hasPrefix("  attempt 1 failed at ") == true)
            #expect(lines.last?.hasSuffix(": Billing.Declined: card declined 2") == true)
            let json = try await run(["jobs", "show", "\(id)", "--json"], in: db)
            let report = try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any]
            let errors = report?["errors"] as? [[String: Any]]
            #expect(errors?.map { $0["attempt"] as? Int } == [1, 2])
            #expect(errors?.last?["message"] as? String == "card declined 2")
            let shell = try await run(["shell", "list_jobs", "details"], in: db)
            #expect(shell.standardOutput.contains(": Billing.Declined: card declined 1\n"), "\(shell.standardOutput)")
        }
    }

    @Test func countsAndWorkers() async throws {
        try await TestDatabase.withDatabase { db in
            _ = try await seed(db)
            let queues = try await run(["queues"], in: db)
            #expect(queues.standardOutput.hasPrefix("default: 1 job (todo: 1,"))
            let tasks = try await run(["tasks", "--json"], in: db)
            // No worker runs: the waiting job of `sum` is claimed by none.
            #expect(tasks.standardOutput == #"[{"aborted":0,"cancelled":0,"doing":0,"failed":1,"jobs_count":1,"name":"mail","succeeded":0,"todo":0},{"aborted":0,"cancelled":0,"claimed_by_a_worker":false,"doing":0,"failed":0,"jobs_count":1,"name":"sum","succeeded":0,"todo":1}]"# + "\n")
            #expect(try await run(["tasks"], in: db).standardOutput.contains("sum: 1 job (todo: 1, doing: 0, succeeded: 0, failed: 0, cancelled: 0, aborted: 0)  [no registered worker claims this task]"))
            let knowsMail = try await db.registerWorker(WorkerRegistration(name: "mailer", queues: nil, taskNames: ["mail"]))
            #expect(try await run(["jobs", "list", "--status", "todo"], in: db).standardOutput.contains("[no registered worker claims task sum on queue default]"))
            try await db.unregisterWorker(id: knowsMail)
            let locks = try await run(["locks", "--queue", "default"], in: db)
            #expect(locks.standardOutput == "L: 1 job (todo: 1, doing: 0, succeeded: 0, failed: 0, cancelled: 0, aborted: 0)\n")
            let worker = try await db.registerWorker()
            let workers = try await run(["workers", "--json"], in: db)
            let list = try #require(try JSONSerialization.jsonObject(with: Data(workers.standardOutput.utf8)) as? [[String: Any]])
            #expect(list.map { $0["id"] as? Int } == [Int(worker)])
            let named = try await db.registerWorker(WorkerRegistration(name: "thumbnails", queues: ["images", "default"], taskNames: nil))
            _ = try await db.fetchJob(queues: ["default"], workerID: named)
            let text = try await run(["workers"], in: db).standardOutput
            #expect(text.contains("#\(named) thumbnails (queues images, default): 1 running, last heartbeat "), "\(text)")
            let described = try await run(["workers", "--json"], in: db)
            let reports = try #require(try JSONSerialization.jsonObject(with: Data(described.standardOutput.utf8)) as? [[String: Any]])
            #expect(reports.last?["name"] as? String == "thumbnails" && reports.last?["running"] as? Int == 1)
        }
    }

    @Test func readOnlyCommandsWorkOnADatabaseSetUpByPythonAlone() async throws {
        try await TestDatabase.withDatabase(.python) { db in
            _ = try await seed(db)
            for command in ["list_jobs details", "list_queues", "list_tasks", "list_locks"] {
                let shell = try await run(["shell"] + command.split(separator: " ").map(String.init), in: db)
                #expect(shell.status == 0 && !shell.standardOutput.isEmpty, "shell \(command): \(shell.standardError)")
            }
            for command in [["jobs", "list"], ["jobs", "show", "1"], ["queues"], ["tasks"], ["workers"], ["limits"]] {
                let output = try await run(command, in: db)
                #expect(output.status == 0, "\(command): \(output.standardError)")
            }
        }
    }

    @Test func workerOneShotFromAnApplicationsExecutable() async throws {
        try await TestDatabase.withDatabase { db in
            let app = App(connector: db, logger: TestDatabase.logger)
            let ids = try await app.configureTask(name: "locked").batchDefer([["index": 1, "sleepMilliseconds": 1], ["index": 2, "sleepMilliseconds": 1]])
            let output = try await run(["worker", "--one-shot", "--concurrency", "2", "--queues", "default"], in: db, executable: "TestWorker")
            #expect(output.status == 0, "\(output.standardError)")
            #expect(output.standardOutput.split(separator: "\n").filter { $0.hasPrefix("RAN") }.count == 2)
            for id in ids { #expect(try await app.jobManager.status(of: id) == .succeeded) }

            let bad = try await CommandLineRunner.run(
                ["worker"], executable: "TestWorker",
                environment: ["PROCRASTINATE_DATABASE_URL": try db.testURL, "PROCRASTINATE_WORKER_CONCURRENCY": "zero"]
            )
            #expect(bad.status == 1 && bad.standardError == "Error: PROCRASTINATE_WORKER_CONCURRENCY must be an integer, not 'zero'\n")
        }
    }

    @Test func logsAsJSON() async throws {
        try await TestDatabase.withDatabase { db in
            let output = try await run(["--log-level", "info", "--log-format", "json", "defer", "sum", "--unknown"], in: db)
            #expect(output.status == 0)
            let line = try #require(output.standardError.split(separator: "\n").first { $0.contains("jobs_deferred") })
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
            #expect(object["action"] == "jobs_deferred" && object["level"] == "info" && object["message"] == "Deferred 1 job(s)")
        }
    }
}
