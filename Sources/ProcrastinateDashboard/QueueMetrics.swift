import Foundation
import Procrastinate
import Prometheus

/// The queue's state in the Prometheus text format, read from the database at each scrape
/// (a registry of its own each time, so that a queue that went away leaves no stale series).
enum QueueMetrics {
    static var jobs: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "procrastinate", metricName: "jobs", unitName: "",
        helpText: "Jobs per queue and status (finished ones estimated from the planner's statistics on large tables)"
    ) }
    static var oldestWaiting: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "procrastinate", metricName: "oldest_waiting_job_age", unitName: "seconds",
        helpText: "Age of the oldest job waiting to run, per queue"
    ) }
    static var workersAlive: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "procrastinate", metricName: "workers_alive", unitName: "", helpText: "Workers whose last heartbeat is recent"
    ) }
    static var workersStalled: MetricNameDescriptor { MetricNameDescriptor(
        namespace: "procrastinate", metricName: "workers_stalled", unitName: "", helpText: "Registered workers whose heartbeat is late"
    ) }

    static func render(counts: StatusCounts, oldest: [OldestWaiting], workers: [WorkerRow], stalledAfter: Double) -> [UInt8] {
        let registry = PrometheusCollectorRegistry()
        for row in counts.rows {
            for (status, count) in row.counts {
                registry.makeGauge(descriptor: jobs, labels: [("queue", row.name), ("status", status.rawValue)]).set(Double(count.value))
            }
        }
        for row in oldest {
            registry.makeGauge(descriptor: oldestWaiting, labels: [("queue", row.queue)]).set(row.age)
        }
        let alive = workers.filter { $0.silentFor <= stalledAfter }.count
        registry.makeGauge(descriptor: workersAlive).set(Double(alive))
        registry.makeGauge(descriptor: workersStalled).set(Double(workers.count - alive))
        return registry.emitToBuffer()
    }
}
