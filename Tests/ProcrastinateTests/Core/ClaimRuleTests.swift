import Foundation
import Testing

@testable import Procrastinate

/// The claim rule, on both connectors, against a model of it: a batch claims what
/// `procrastinate_fetch_job_v2` called that many times would. Jobs over 1, 2 and many lock keys
/// (and none), with priorities, schedules, queues and tasks mixed, are claimed, finished,
/// retried onto other locks and cancelled at random (seeded), and every claim is checked.
@Suite struct ClaimRuleTests {
    /// One job as the model sees it.
    struct ModelJob {
        var id: Int64
        var queue: String
        var task: String
        var priority: Int
        var lock: String?
        var due: Bool
        var status: JobStatus
    }

    /// The rule, one fetch at a time: the best due waiting job of the queues and tasks whose
    /// lock (if any) has no running job and no waiting job before it, in any queue or schedule.
    struct Model {
        var jobs: [Int64: ModelJob] = [:]

        func isHead(_ job: ModelJob) -> Bool {
            guard let lock = job.lock else { return true }
            return !jobs.values.contains { other in
                other.lock == lock && other.id != job.id
                    && (other.status == .doing
                        || (other.status == .todo && (other.priority > job.priority || (other.priority == job.priority && other.id < job.id))))
            }
        }

        mutating func claim(limit: Int, queues: [String]?, tasks: [String]?) -> [Int64] {
            var claimed: [Int64] = []
            while claimed.count < limit {
                let next = jobs.values
                    .filter { job in
                        job.status == .todo && job.due && (queues?.contains(job.queue) ?? true) && (tasks?.contains(job.task) ?? true) && isHead(job)
                    }
                    .min { ($0.priority, -$0.id) > ($1.priority, -$1.id) }
                guard let next else { break }
                jobs[next.id]?.status = .doing
                claimed.append(next.id)
            }
            return claimed.sorted { (jobs[$0]!.priority, -$0) > (jobs[$1]!.priority, -$1) }
        }
    }

    @Test(arguments: ConnectorKind.allCases, [1, 2, 50])
    func batchesFollowTheRule(kind: ConnectorKind, keys: Int) async throws {
        try await kind.withConnector { connector in
            var random = SeededGenerator(state: UInt64(keys))
            var model = Model()
            let queues = ["default", "other"]
            let tasks = ["a", "b"]
            let later = Date().addingTimeInterval(3600)

            func deferSome(_ count: Int) async throws {
                let jobs = (0..<count).map { _ in
                    NewJob(
                        queue: queues.randomElement(using: &random)!,
                        taskName: tasks.randomElement(using: &random)!,
                        priority: [0, 0, 1, 5].randomElement(using: &random)!,
                        lock: Int.random(in: 0..<5, using: &random) == 0 ? nil : "key-\(Int.random(in: 0..<keys, using: &random))",
                        scheduledAt: Int.random(in: 0..<8, using: &random) == 0 ? later : nil
                    )
                }
                let ids = try await connector.deferJobs(jobs)
                for (id, job) in zip(ids, jobs) {
                    model.jobs[id] = ModelJob(
                        id: id, queue: job.queue, task: job.taskName, priority: job.priority, lock: job.lock, due: job.scheduledAt == nil, status: .todo
                    )
                }
            }

            try await deferSome(150)
            for round in 0..<40 {
                let targetQueues: [String]? = [nil, ["default"], ["other"], queues].randomElement(using: &random)!
                let targetTasks: [String]? = [nil, nil, ["a"]].randomElement(using: &random)!
                let limit = Int.random(in: 1...12, using: &random)
                let expected = model.claim(limit: limit, queues: targetQueues, tasks: targetTasks)
                let claimed = try await connector.fetchJobs(queues: targetQueues, workerID: nil, limit: limit, taskNames: targetTasks).map(\.id)
                #expect(claimed == expected, "round \(round): limit \(limit), queues \(targetQueues ?? []), tasks \(targetTasks ?? [])")

                // End most running jobs; retry some, onto another lock and priority at times.
                for id in model.jobs.values.filter({ $0.status == .doing }).map(\.id).sorted() where Int.random(in: 0..<4, using: &random) > 0 {
                    if Int.random(in: 0..<5, using: &random) == 0 {
                        let lock = "key-\(Int.random(in: 0..<keys, using: &random))"
                        let priority = [0, 1, 5].randomElement(using: &random)!
                        try await connector.retryJob(id: id, at: Date().addingTimeInterval(-1), priority: priority, queue: nil, lock: lock)
                        model.jobs[id]?.status = .todo
                        model.jobs[id]?.lock = lock
                        model.jobs[id]?.priority = priority
                    } else {
                        try await connector.finishJob(id: id, status: .succeeded, deleteJob: false)
                        model.jobs[id]?.status = .succeeded
                    }
                }
                // Cancel a waiting job now and then, and defer more.
                if let victim = model.jobs.values.filter({ $0.status == .todo }).map(\.id).sorted().randomElement(using: &random),
                    Int.random(in: 0..<3, using: &random) == 0
                {
                    _ = try await connector.cancelJob(id: victim, abort: false, deleteJob: false)
                    model.jobs[victim]?.status = .cancelled
                }
                if round % 10 == 9 { try await deferSome(40) }
            }
            #expect(model.jobs.values.contains { $0.status == .succeeded })
        }
    }
}
