import Foundation
import Logging
import HTTPTypes
public import Hummingbird
import NIOCore
public import Procrastinate
import Synchronization

/// A web dashboard of a Procrastinate database: the queue at a glance, jobs to filter and
/// follow, locks, workers, periodic schedules and stalled jobs, with actions (retry, cancel,
/// abort, delete, defer a periodic task now) that go through `JobManager`.
///
/// Mount it in an application's Hummingbird router, sharing its connection pool:
///
/// ```swift
/// let dashboard = Dashboard(connector: connector, app: app, options: DashboardOptions(basePath: "/admin/jobs"))
/// let router = Router()
/// router.add(middleware: MyAuthentication())  // the application's own
/// dashboard.addRoutes(to: router)
/// ```
///
/// or run it alone with `procrastinate dashboard`. Pages are server-rendered HTML (every value
/// from the database escaped), refresh themselves from the database's notifications, and load
/// nothing from elsewhere. Actions are POST requests carrying a token of the dashboard's
/// pages, so that another site cannot make a browser send them.
public struct Dashboard: Sendable {
    /// The database.
    public let connector: PostgresConnector
    /// The application, when known: its tasks and periodic schedules show too.
    public let app: App?
    /// How it behaves.
    public let options: DashboardOptions
    /// The token every action form carries: a random value of this dashboard's life.
    let csrfToken: String
    let features: FeatureCache
    let live: LiveUpdates

    /// A dashboard of `connector`'s database.
    public init(connector: PostgresConnector, app: App? = nil, options: DashboardOptions = DashboardOptions()) {
        self.connector = connector
        self.app = app
        self.options = options
        var generator = SystemRandomNumberGenerator()
        self.csrfToken = (0..<4).map { _ in String(generator.next(), radix: 16) }.joined(separator: "-")
        self.features = FeatureCache(connector: connector)
        self.live = LiveUpdates(connector: connector, limit: options.maxLiveStreams)
    }

    var manager: JobManager { JobManager(connector: connector) }
    var stalledSeconds: Double { options.stalledAfter.seconds }

    /// Adds the dashboard's routes under ``DashboardOptions/basePath`` of `router`.
    public func addRoutes<Context: RequestContext>(to router: some RouterMethods<Context>) {
        let group = router.group(RouterPath(options.normalizedBasePath))
        group.get("assets/dashboard.css") { _, _ in Self.asset(Assets.styleSheet, type: "text/css; charset=utf-8") }
        group.get("assets/dashboard.js") { _, _ in Self.asset(Assets.script, type: "text/javascript; charset=utf-8") }
        group.get("events") { _, _ in live.response() }
        group.get("metrics") { _, _ in try await metrics() }

        group.get("") { request, _ in
            await page(request, title: "Overview", section: "") { session, context in
                let queues = try await QueueNames.read(in: session)
                return OverviewPage(
                    counts: try await StatusCounts.read(by: .queue, in: session), activity: try await Activity.read(in: session),
                    oldest: try await OldestWaiting.read(queues: queues, in: session), workers: try await WorkerRow.read(in: session),
                    stalledAfter: stalledSeconds
                ).render(context)
            }
        }
        group.get("jobs") { request, _ in
            await page(request, title: "Jobs", section: "jobs") { session, context in
                let query = request.uri.queryParameters
                let filter = try JobSearchFilter(query: Self.dictionary(query))
                let before = try query["before"].map { value in
                    guard let id = Int64(String(value)) else { throw InvalidParameter(name: "before", value: String(value), expected: "a job id") }
                    return id
                }
                let listing = try await JobListing.read(filter, before: before, in: session)
                return JobListPage(filter: filter, listing: listing, before: before).render(context)
            }
        }
        group.get("jobs/:id") { request, requestContext in
            let text = requestContext.parameters.get("id") ?? ""
            let id = Int64(text)
            return await page(request, title: "Job #\(text)", section: "jobs") { session, context in
                guard let id, let details = try await JobDetails.read(id: id, in: session) else {
                    throw NotFound(what: "job \(text)")
                }
                return JobPage(details: details).render(context)
            }
        }
        group.get("queues") { request, _ in
            await page(request, title: "Queues", section: "queues") { session, context in
                CountsPage(grouping: .queue, counts: try await StatusCounts.read(by: .queue, in: session), registeredTasks: []).render(context)
            }
        }
        group.get("tasks") { request, _ in
            await page(request, title: "Tasks", section: "tasks") { session, context in
                CountsPage(
                    grouping: .task, counts: try await StatusCounts.read(by: .task, in: session),
                    registeredTasks: app?.taskNames.sorted() ?? []
                ).render(context)
            }
        }
        group.get("locks") { request, _ in
            await page(request, title: "Locks", section: "locks") { session, context in
                let query = request.uri.queryParameters
                let search = query["search"].flatMap { $0.isEmpty ? nil : String($0) }
                let after = query["after"].map(String.init)
                return LocksPage(search: search, after: after, locks: try await LockLine.read(search: search, after: after, in: session))
                    .render(context)
            }
        }
        group.get("limits") { request, _ in
            await page(request, title: "Limits", section: "limits") { _, context in
                guard try await features.current().limits else { return LimitsPage(limits: nil, paused: []).render(context) }
                return LimitsPage(limits: try await manager.limits(), paused: try await manager.pausedQueues()).render(context)
            }
        }
        group.get("workers") { request, _ in
            await page(request, title: "Workers", section: "workers") { session, context in
                WorkersPage(workers: try await WorkerRow.read(in: session), stalledAfter: stalledSeconds).render(context)
            }
        }
        group.get("periodic") { request, _ in
            await page(request, title: "Periodic tasks", section: "periodic") { session, context in
                PeriodicPage(ticks: try await LastTick.read(in: session), schedules: app?.periodicTasks, now: Date()).render(context)
            }
        }
        group.get("stalled") { request, _ in
            await page(request, title: "Stalled jobs", section: "stalled") { session, context in
                StalledPage(jobs: try await StalledJobs.read(silentFor: stalledSeconds, in: session), stalledAfter: stalledSeconds).render(context)
            }
        }
        addActions(to: group)
    }

    // MARK: Responses

    /// A page: `content` read in one read-only session; only `#content` for a refresh.
    func page(
        _ request: Request, title: String, section: String, _ content: @escaping @Sendable (ReadSession, PageContext) async throws -> HTML
    ) async -> Response {
        let context = pageContext(request)
        var status = HTTPResponse.Status.ok
        let body: HTML
        do {
            let features = try await features.current()
            body = try await ReadSession.run(connector, features: features, statementTimeout: options.statementTimeout) { session in
                try await content(session, context)
            }
        } catch let error as InvalidParameter {
            status = .badRequest
            body = Layout.failure(error.description)
        } catch let error as NotFound {
            status = .notFound
            body = Layout.failure(error.description)
        } catch let error as DatabaseError where error.isTransient {
            status = .serviceUnavailable
            connector.logger.error(
                "Dashboard page \(request.uri.path) failed: the database is unavailable: \(error)",
                metadata: ["action": "dashboard_database_unavailable"]
            )
            body = Layout.failure("The database is unavailable: \(error). This page shows again once the database answers.")
        } catch {
            status = .internalServerError
            connector.logger.error("Dashboard page \(request.uri.path) failed: \(error)", metadata: ["action": "dashboard_page_failed"])
            body = Layout.failure("The database could not answer: \(error)")
        }
        if request.headers[Self.fragmentHeader] != nil {
            return Self.html(body, status: status)
        }
        let flash = request.uri.queryParameters["done"].map(String.init)
        return Self.html(Layout.page(title: title, section: section, context: context, flash: flash, content: body), status: status)
    }

    func pageContext(_ request: Request) -> PageContext {
        PageContext(
            basePath: options.normalizedBasePath, readOnly: options.readOnly, csrfToken: csrfToken,
            refreshSeconds: max(Int(options.refreshInterval.seconds.rounded()), 1), currentPath: request.uri.description
        )
    }

    private func metrics() async throws -> Response {
        let features = try await features.current()
        let bytes = try await ReadSession.run(connector, features: features, statementTimeout: options.statementTimeout) { session in
            let queues = try await QueueNames.read(in: session)
            return QueueMetrics.render(
                counts: try await StatusCounts.read(by: .queue, in: session), oldest: try await OldestWaiting.read(queues: queues, in: session),
                workers: try await WorkerRow.read(in: session), stalledAfter: stalledSeconds
            )
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The header a page's script sends when it wants the content alone.
    static let fragmentHeader = HTTPField.Name("X-Dashboard-Fragment")!

    static func html(_ html: HTML, status: HTTPResponse.Status = .ok) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html.markup)))
    }

    static func asset(_ text: String, type: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = type
        headers[.cacheControl] = "max-age=3600"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// Scripts and styles from the dashboard only (never inline), no framing, no sniffing.
    static let securityHeaders: HTTPFields = {
        var headers = HTTPFields()
        headers[.contentSecurityPolicy] =
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        headers[.cacheControl] = "no-store"
        return headers
    }()

    static func dictionary(_ parameters: Parameters) -> [String: String] {
        var dictionary: [String: String] = [:]
        for (name, value) in parameters { dictionary[String(name)] = String(value) }
        return dictionary
    }
}

/// A page about something that does not exist.
struct NotFound: Error, CustomStringConvertible {
    var what: String
    var description: String { "There is no \(what)." }
}

/// What the database holds beyond the 3.10 schema, read once a minute (migrations may come).
final class FeatureCache: Sendable {
    private let connector: PostgresConnector
    private let state = Mutex<(features: SchemaFeatures, read: ContinuousClock.Instant)?>(nil)

    init(connector: PostgresConnector) {
        self.connector = connector
    }

    func current() async throws -> SchemaFeatures {
        if let cached = state.withLock({ $0 }), ContinuousClock.now - cached.read < .seconds(60) {
            return cached.features
        }
        let features = try await SchemaFeatures.read(from: connector)
        state.withLock { $0 = (features, .now) }
        return features
    }
}
