/// How a dashboard behaves.
public struct DashboardOptions: Sendable {
    /// The path the dashboard is mounted at (`/admin/jobs`; `/` at the root).
    public var basePath: String
    /// Whether pages only show: no retry, cancel, abort, delete or defer.
    public var readOnly: Bool
    /// How often an open page refreshes itself when no notification arrives first.
    public var refreshInterval: Duration
    /// A worker silent for longer is shown stalled, and its running jobs on the stalled page.
    public var stalledAfter: Duration
    /// How long one of a page's statements may run before PostgreSQL stops it.
    public var statementTimeout: Duration
    /// How many pages may hold a live-update stream at once (they share one listening
    /// connection); the others refresh on their timer alone.
    public var maxLiveStreams: Int

    /// Options; every one has a default.
    public init(
        basePath: String = "/", readOnly: Bool = false, refreshInterval: Duration = .seconds(5), stalledAfter: Duration = .seconds(30),
        statementTimeout: Duration = .seconds(5), maxLiveStreams: Int = 256
    ) {
        self.basePath = basePath
        self.readOnly = readOnly
        self.refreshInterval = refreshInterval
        self.stalledAfter = stalledAfter
        self.statementTimeout = statementTimeout
        self.maxLiveStreams = maxLiveStreams
    }

    /// ``basePath`` with one leading slash and no trailing one (`""` for the root).
    var normalizedBasePath: String {
        let trimmed = basePath.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
        return trimmed.isEmpty ? "" : "/" + trimmed
    }
}
