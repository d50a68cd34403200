import Foundation
import Logging
public import PostgresNIO

/// Defers jobs of one task with chosen options: what `TaskHandle.configure(…)` and
/// `App.configureTask(name:)` return.
public struct JobDeferrer<Arguments: Encodable & Sendable>: Sendable {
    /// The task jobs go to: a registered one, or a name only (possibly unknown to this app).
    enum Target: Sendable {
        case task(TaskDefinition)
        case name(String, app: App)
    }

    let target: Target
    /// The options given for these jobs, over the task's defaults.
    let options: JobOptions

    /// Defers one job; returns its id.
    ///
    /// - Throws: ``AlreadyEnqueued`` (nothing inserted), ``InvalidQueueName``, ``ArgumentsError``
    ///   (also when a task this app knows, deferred by name, cannot decode the arguments),
    ///   ``UnboundTask``, or a ``DatabaseError``.
    @discardableResult
    public func `defer`(_ arguments: Arguments) async throws -> Int64 {
        try await batchDefer([arguments])[0]
    }

    /// Defers several jobs in one statement, all or nothing; returns their ids in order.
    @discardableResult
    public func batchDefer(_ arguments: [Arguments]) async throws -> [Int64] {
        let (app, jobs) = try prepare(arguments)
        guard !jobs.isEmpty else { return [] }
        app.logger.debug("About to defer \(jobs.count) job(s)", metadata: ["action": "about_to_defer_jobs", "task": "\(jobs[0].taskName)"])
        let ids = try await app.connector.deferJobs(jobs)
        app.logger.info("Deferred \(ids.count) job(s)", metadata: ["action": "jobs_deferred", "task": "\(jobs[0].taskName)", "job_ids": "\(ids)"])
        return ids
    }

    /// Defers one job on `connection`, inside the caller's transaction: the job exists only
    /// if that transaction commits.
    @discardableResult
    public func `defer`(_ arguments: Arguments, on connection: PostgresConnection) async throws -> Int64 {
        let (app, jobs) = try prepare([arguments])
        return try await PostgresConnector.deferJobs(jobs, on: connection, logger: app.logger)[0]
    }

    /// The app and the rows to insert.
    private func prepare(_ arguments: [Arguments]) throws -> (App, [NewJob]) {
        let app: App
        let name: String
        /// The task, when this app registers it.
        let known: TaskDefinition?
        /// A task known by name only, whose arguments were encoded from another type (raw
        /// JSON, say): they are checked against its own before inserting.
        var decodedByName: TaskDefinition?
        switch target {
        case .task(let definition):
            guard let bound = definition.app else { throw UnboundTask(name: definition.name) }
            (app, name, known) = (bound, definition.name, definition)
        case .name(let taskName, let owner):
            known = owner.task(named: taskName)
            decodedByName = known?.argumentsType == ObjectIdentifier(Arguments.self) ? nil : known
            (app, name) = (owner, taskName)
        }
        let defaults = known?.options.jobs ?? JobOptions()
        let merged = defaults.overridden(by: options)
        let now = Date()
        var jobs = try arguments.map { try merged.newJob(taskName: name, arguments: $0, now: now) }
        if let decodedByName {
            for job in jobs { try decodedByName.checkArguments(job.arguments) }
        }
        if let known {
            jobs = try jobs.map { try known.withLimitKey($0, given: merged.limitKey) }
        } else if let key = merged.limitKey {
            throw ConfigurationError(description: "limit key '\(key)' given for task '\(name)', which this app does not know: its keyLimit is unknown")
        }
        return (app, jobs)
    }
}
