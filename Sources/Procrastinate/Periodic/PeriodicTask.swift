public import Cron
public import Foundation
import Logging
import Synchronization

/// A task deferred on a cron schedule: what `app.periodic(…)` and crontab lines declare.
public struct PeriodicTask: Sendable {
    /// The task deferred.
    public let taskName: String
    /// Distinguishes several schedules of one task (`""` by default).
    public let periodicID: String
    /// When.
    public let schedule: CronSchedule
    /// Options over the task's defaults (queue, priority, lock, queueing lock, arguments
    /// besides `timestamp`).
    public let options: JobOptions

    /// Arguments besides `timestamp`.
    public var extraArguments: [String: JSONValue] { options.extraArguments }

    /// The job of the tick at `timestamp` (seconds since 1970).
    func job(at timestamp: Int64, defaults: TaskOptions) throws -> NewJob {
        try defaults.jobs.overridden(by: options).newJob(taskName: taskName, arguments: ["timestamp": JSONValue.int(Int(timestamp))])
    }

    /// How a periodic task's expression is read: `H` hashes the task and its periodic id, so
    /// that every replica agrees; nicknames keep their plain meaning (`@daily` is midnight), as
    /// in Python Procrastinate, whose scheduler passes croniter no hash key.
    static func cronOptions(taskName: String, periodicID: String) -> CronExpression.Options {
        CronExpression.Options(hashID: "\(taskName)|\(periodicID)", hashesNicknames: false)
    }
}


extension App {
    /// Defers a job of `task` now, outside its schedule, as its tick at `date` would (its
    /// `timestamp` argument is `date`); no tick is recorded, so the scheduled ticks still run.
    /// Returns the job's id.
    ///
    /// - Throws: ``UnknownTask`` when the task is not registered.
    @discardableResult
    public func deferNow(_ task: PeriodicTask, at date: Date = Date()) async throws -> Int64 {
        guard let definition = self.task(named: task.taskName) else { throw UnknownTask(name: task.taskName, knownNames: taskNames) }
        let job = try task.job(at: Int64(date.timeIntervalSince1970.rounded(.down)), defaults: definition.options)
        return try await connector.deferJobs([job])[0]
    }

    /// Defers `task` on the schedule `cron`, every tick exactly once across all workers (the
    /// database deduplicates ticks). The task's arguments receive `timestamp` (the tick, in
    /// seconds since 1970, as Python Procrastinate passes it) and `extraArguments`.
    ///
    /// ```swift
    /// struct Tick: Codable, Sendable { var timestamp: Int }
    /// let report = try app.task("report") { (tick: Tick) in … }
    /// try app.periodic(report, cron: "0 9 * * mon-fri", timeZone: TimeZone(named: "Europe/Paris"))
    /// ```
    ///
    /// The schedule is checked now: a bad expression (``InvalidPeriodicSchedule``), arguments
    /// the task cannot decode or a duplicate (task, periodic id) throw here, never in a running
    /// worker. croniter's
    /// surprises are logged as warnings.
    public func periodic<Arguments>(
        _ task: TaskHandle<Arguments>, cron: String, periodicID: String = "", timeZone: TimeZone = CronSchedule.utc,
        dst: CronSchedule.DSTPolicy = .once, queue: String? = nil, priority: Int? = nil, lock: String? = nil,
        queueingLock: String? = nil, extraArguments: [String: JSONValue] = [:]
    ) throws {
        let options = PeriodicTask.cronOptions(taskName: task.name, periodicID: periodicID)
        let schedule: CronSchedule
        do {
            schedule = try CronSchedule(parsing: cron, options: options, timeZone: timeZone, dst: dst)
        } catch {
            throw InvalidPeriodicSchedule(taskName: task.name, periodicID: periodicID, cron: cron, cause: error)
        }
        try addPeriodic(PeriodicTask(
            taskName: task.name, periodicID: periodicID, schedule: schedule,
            options: JobOptions(queue: queue, priority: priority, lock: lock, queueingLock: queueingLock, extraArguments: extraArguments)
        ))
    }

    /// Registers every entry of the `*.crontab` files of `directory` against this app's tasks.
    ///
    /// - Throws: `CrontabErrors` listing every mistake of every file (syntax, unknown task
    ///   names and arguments the task cannot decode alike, in one pass) with
    ///   `file:line:column`; nothing is registered then.
    public func loadCrontabs(directory: URL) throws {
        for task in try checkCrontabs(directory: directory) {
            try addPeriodic(task)
        }
    }

    /// The periodic tasks the `*.crontab` files of `directory` declare, checked against this
    /// app's tasks as ``loadCrontabs(directory:)`` checks them, without registering them.
    ///
    /// - Throws: `CrontabErrors` listing every mistake of every file.
    public func checkCrontabs(directory: URL) throws(CrontabErrors) -> [PeriodicTask] {
        let (entries, syntaxErrors) = Crontab.read(directory: directory)
        var errors = syntaxErrors
        var periodic: [PeriodicTask] = []
        for entry in entries {
            guard let definition = task(named: entry.taskName) else {
                let known = taskNames.joined(separator: ", ")
                errors.append(CrontabError(location: entry.location, message: "unknown task '\(entry.taskName)' (registered: \(known))"))
                continue
            }
            do {
                // `H` hashes the task's own name, not an alias the line may use: the same
                // schedule as the task registered in code.
                let options = PeriodicTask.cronOptions(taskName: definition.name, periodicID: entry.periodicID)
                let expression = try CronExpression(entry.schedule.expression.text, options: options)
                let schedule = CronSchedule(expression, timeZone: entry.schedule.timeZone, dst: entry.schedule.dst)
                let task = PeriodicTask(
                    taskName: definition.name, periodicID: entry.periodicID, schedule: schedule, options: entry.options
                )
                try check(task)
                periodic.append(task)
            } catch {
                errors.append(CrontabError(location: entry.location, message: "\(error)"))
            }
        }
        guard errors.isEmpty else { throw CrontabErrors(errors: errors.sorted()) }
        return periodic
    }

    /// The registered periodic tasks.
    public var periodicTasks: [PeriodicTask] { periodicRegistry.withLock { $0 } }

    private func addPeriodic(_ periodic: PeriodicTask) throws {
        try check(periodic)
        try periodicRegistry.withLock { (registered) throws(PeriodicTaskAlreadyRegistered) in
            if registered.contains(where: { $0.taskName == periodic.taskName && $0.periodicID == periodic.periodicID }) {
                throw PeriodicTaskAlreadyRegistered(taskName: periodic.taskName, periodicID: periodic.periodicID)
            }
            registered.append(periodic)
        }
        logger.debug(
            "Registered periodic task \(periodic.taskName) on '\(periodic.schedule.expression.text)' (\(periodic.schedule.timeZoneName))",
            metadata: ["action": "registering_periodic_task", "periodic_id": "\(periodic.periodicID)"]
        )
        for warning in periodic.schedule.expression.lintWarnings {
            logger.warning("Periodic task \(periodic.taskName): \(warning)", metadata: ["action": "periodic_schedule_warning"])
        }
    }

    /// Throws unless the task exists and decodes a tick's arguments.
    private func check(_ periodic: PeriodicTask) throws {
        guard let definition = task(named: periodic.taskName) else {
            throw UnknownTask(name: periodic.taskName, knownNames: taskNames)
        }
        if periodic.extraArguments["timestamp"] != nil {
            throw ConfigurationError(description: "'timestamp' is reserved for the tick's time (task '\(periodic.taskName)')")
        }
        do {
            try definition.checkArguments(try periodic.job(at: 0, defaults: definition.options).arguments, mayLeaveUnread: ["timestamp"])
        } catch let error as ArgumentsError {
            let extra = periodic.extraArguments.keys.sorted().map { ", \"\($0)\": …" }.joined()
            throw ConfigurationError(description: """
                periodic task '\(periodic.taskName)': each tick's job receives {"timestamp": <the tick's Unix time, an integer>\(extra)}, \
                which the task's argument type must decode (declare `var timestamp: Int`, or a type without required \
                fields besides it): \(error)
                """)
        }
    }
}
