/// How the records of `procrastinate_periodic_defers` decide whether a tick is deferred, so
/// that each tick of a schedule gets one job however many schedulers run, and however late.
///
/// A tick is deferred when it has no record and is not older than the schedule's oldest
/// record. Records are only ever removed oldest first (Python's
/// `procrastinate_defer_periodic_job_v2` removes every record older than the tick it defers;
/// ours keep ``retention`` seconds of them), so a missing record newer than the oldest one
/// belongs to a tick nobody deferred: a scheduler running late fills it in. A tick older than
/// every record may have been deferred and forgotten, so it is skipped rather than risk running
/// it twice.
public enum PeriodicTickRecord {
    /// How long, in seconds before the tick being deferred, the records of a schedule are kept.
    public static let retention: Int64 = 3600

    /// Whether `tick` is to be deferred, given the schedule's oldest recorded tick (nil when
    /// none) and whether `tick` itself has a record.
    public static func isDue(_ tick: Int64, oldestRecorded: Int64?, recorded: Bool) -> Bool {
        !recorded && tick >= (oldestRecorded ?? tick)
    }
}
