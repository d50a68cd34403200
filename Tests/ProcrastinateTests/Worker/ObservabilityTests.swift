import Foundation
import InMemoryTracing
import Instrumentation
import Metrics
import MetricsTestKit
import Procrastinate
import Testing
import Tracing

/// What a worker reports besides its logs: swift-metrics counters and timers, and a span per
/// job.
@Suite struct ObservabilityTests {
    /// Tracing has one global instrument per process: set once, shared by the tests, which
    /// tell their spans apart by task name.
    static let tracer: InMemoryTracer = {
        let tracer = InMemoryTracer()
        InstrumentationSystem.bootstrap(tracer)
        return tracer
    }()

    @Test func jobsAreCountedAndTimedPerTaskAndQueue() async throws {
        let metrics = TestMetrics()
        try await withMetricsFactory(metrics) {
            try await ConnectorKind.memory.withApp { app in
                let fine = try app.task("counted.fine") { (_: NoArguments) in }
                let boom = try app.task("counted.boom") { (_: NoArguments) in throw WorkerTests.Boom() }
                try await fine.defer()
                try await fine.configure(queue: "other").defer(NoArguments())
                try await boom.defer()
                try await boom.configure(scheduleAt: Date().addingTimeInterval(-1)).defer(NoArguments())
                try await RunningWorker(Worker(app: app, options: .test(wait: false))).finished()
            }
        }
        let fine = [("task", "counted.fine"), ("queue", "default")]
        let boom = [("task", "counted.boom"), ("queue", "default")]
        #expect(try metrics.expectCounter("procrastinate_jobs_started_total", fine).totalValue == 1)
        #expect(try metrics.expectCounter("procrastinate_jobs_succeeded_total", fine).totalValue == 1)
        #expect(try metrics.expectCounter("procrastinate_jobs_failed_total", fine).totalValue == 0)
        #expect(try metrics.expectCounter("procrastinate_jobs_succeeded_total", [("task", "counted.fine"), ("queue", "other")]).totalValue == 1)
        #expect(try metrics.expectCounter("procrastinate_jobs_started_total", boom).totalValue == 2)
        #expect(try metrics.expectCounter("procrastinate_jobs_failed_total", boom).totalValue == 2)
        #expect(try metrics.expectTimer("procrastinate_job_duration_seconds", boom).values.count == 2)
        // Only the scheduled job has a due time to have waited since.
        #expect(try metrics.expectTimer("procrastinate_job_queue_wait_seconds", boom).values.count == 1)
    }

    @Test func aWorkerReportsTheJobsALimitHoldsBack() async throws {
        let metrics = TestMetrics()
        let journal = Journal()
        try await withMetricsFactory(metrics) {
            try await ConnectorKind.memory.withApp { app in
                let slow = try app.task("slow", queue: "narrow") { (_: NoArguments) in
                    while journal.count("release") == 0 { try await Task.sleep(for: .milliseconds(5)) }
                }
                try app.limit(queue: "narrow", Limit(concurrency: 1))
                _ = try await slow.batchDefer([NoArguments(), NoArguments(), NoArguments()])
                let worker = RunningWorker(Worker(app: app, options: .test(concurrency: 3)))
                // One runs; the queue's limit holds back the two others, as the heartbeats say.
                try await eventually("the gauge to count 2") {
                    (try? metrics.expectGauge("procrastinate_jobs_delayed_by_limits").lastValue) == 2
                }
                #expect(worker.worker.runningJobIDs.count == 1)
                journal.record("release")
                try await worker.stop()
            }
        }
    }

    @Test func eachJobRunsInAConsumerSpan() async throws {
        let tracer = Self.tracer
        let ids = try await ConnectorKind.memory.withApp { app in
            let fine = try app.task("traced.fine") { (_: NoArguments) in }
            let boom = try app.task("traced.boom") { (_: NoArguments) in throw WorkerTests.Boom() }
            let ids = (try await fine.defer(), try await boom.defer())
            try await RunningWorker(Worker(app: app, options: .test(wait: false))).finished()
            return ids
        }
        let spans = tracer.finishedSpans.filter { $0.operationName.hasPrefix("procrastinate.job traced.") }
        let fine = try #require(spans.first { $0.operationName == "procrastinate.job traced.fine" })
        let boom = try #require(spans.first { $0.operationName == "procrastinate.job traced.boom" })
        #expect(spans.count == 2)
        #expect(fine.kind == .consumer && fine.errors.isEmpty)
        #expect(fine.attributes["procrastinate.job_id"]?.toSpanAttribute() == .int64(ids.0))
        #expect(fine.attributes["procrastinate.queue"]?.toSpanAttribute() == "default")
        #expect(fine.attributes["procrastinate.attempt"]?.toSpanAttribute() == 1)
        #expect(boom.errors.count == 1 && boom.errors.first?.error is WorkerTests.Boom)
        #expect(boom.attributes["procrastinate.job_id"]?.toSpanAttribute() == .int64(ids.1))
    }
}
