public import Cron
import Foundation

/// One periodic task declared by a crontab line: what `app.periodic(...)` would declare.
public struct CrontabEntry: Sendable, Hashable {
    /// When it fires.
    public var schedule: CronSchedule
    /// The task to defer.
    public var taskName: String
    /// Distinguishes several schedules of one task (`--id`); `""` by default.
    public var periodicID: String
    /// `--queue` (else the file's `QUEUE`), `--priority` (else the file's `PRIORITY`),
    /// `--lock`, `--queueing-lock` and the JSON object of extra task arguments; unset ones are
    /// the task's own.
    public var options: JobOptions
    /// Where the line is.
    public var location: CrontabLocation
}

