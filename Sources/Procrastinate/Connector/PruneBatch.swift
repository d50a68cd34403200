/// What one batch of a prune did (``Connector/deleteOldJobs(olderThan:statuses:queue:after:limit:)``).
public struct PruneBatch: Sendable, Hashable {
    /// How many jobs it deleted.
    public var deleted: Int
    /// The last job id it examined, where the next batch starts; nil when no job followed the
    /// id it started after (the prune is over).
    public var lastExaminedID: Int64?

    /// A batch's figures.
    public init(deleted: Int, lastExaminedID: Int64?) {
        self.deleted = deleted
        self.lastExaminedID = lastExaminedID
    }
}
