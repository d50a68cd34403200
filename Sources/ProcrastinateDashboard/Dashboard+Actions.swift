import Foundation
import Logging
import HTTPTypes
import Hummingbird
import NIOCore
import Procrastinate

/// The actions of the dashboard's pages. Each is a POST carrying the pages' token, refused on
/// a read-only dashboard and from another site, and done through ``JobManager``.
extension Dashboard {
    /// The most jobs one bulk action takes (the newest matching first).
    static let bulkLimit = 10_000

    func addActions<Context: RequestContext>(to group: RouterGroup<Context>) {
        group.post("jobs/:id/:action") { request, context in
            let id = context.parameters.get("id", as: Int64.self)
            let action = context.parameters.get("action") ?? ""
            return await act(request) { _ in
                guard let id else { throw NotFound(what: "job \(context.parameters.get("id") ?? "")") }
                return .message(try await act(action, onJob: id))
            }
        }
        group.post("jobs/bulk") { request, _ in
            await act(request) { form in try await bulk(form, request: request) }
        }
        group.post("queues/:action") { request, context in
            let action = context.parameters.get("action") ?? ""
            return await act(request) { form in
                guard let queue = form["queue"]?.trimmingCharacters(in: .whitespaces), !queue.isEmpty else {
                    throw InvalidParameter(name: "queue", value: form["queue"] ?? "", expected: "a queue's name")
                }
                switch action {
                case "pause":
                    return .message(try await manager.pause(queue: queue) ? "Paused queue \(queue)." : "Queue \(queue) was paused already.")
                case "resume":
                    return .message(try await manager.resume(queue: queue) ? "Resumed queue \(queue)." : "Queue \(queue) was not paused.")
                default:
                    throw NotFound(what: "action \(action)")
                }
            }
        }
        group.post("periodic/defer") { request, _ in
            await act(request) { form in
                guard let task = app?.periodicTasks.first(where: { $0.taskName == form["task"] && $0.periodicID == (form["periodic_id"] ?? "") })
                else { throw NotFound(what: "periodic task \(form["task"] ?? "") here") }
                let id = try await app!.deferNow(task)
                return .message("Deferred \(task.taskName) now as job #\(id).")
            }
        }
    }

    /// What `action` did to job `id`, in words; throws when the action is not one.
    private func act(_ action: String, onJob id: Int64) async throws -> String {
        guard let kind = BulkActions.Kind(rawValue: action) else { throw NotFound(what: "action \(action)") }
        return kind.outcome(ofJob: id, done: try await perform(kind, on: id))
    }

    /// Does `kind` to job `id` through ``JobManager``; returns whether the job's status allowed
    /// it (other failures, a database's, are errors).
    private func perform(_ kind: BulkActions.Kind, on id: Int64) async throws -> Bool {
        switch kind {
        case .retry:
            do {
                try await manager.retry(id: id)
                return true
            } catch is InvalidJobState {
                return false
            } catch is NoSuchJob {
                return false
            }
        case .cancel:
            return try await manager.cancel(id: id)
        case .abort:
            return try await manager.cancel(id: id, abort: true)
        case .delete:
            return try await manager.delete(id: id)
        }
    }

    /// A bulk action: first a page with the count of matching jobs and a confirmation, then
    /// the action on each of them.
    private func bulk(_ form: [String: String], request: Request) async throws -> ActionResult {
        let filter = try JobSearchFilter(query: form)
        guard let kind = form["action"].flatMap(BulkActions.Kind.init(rawValue:)) else {
            throw InvalidParameter(name: "action", value: form["action"] ?? "", expected: BulkActions.kinds.map(\.rawValue).joined(separator: ", "))
        }
        let features = try await features.current()
        let ids = try await ReadSession.run(connector, features: features, statementTimeout: .seconds(60)) { session in
            try await JobListing.matchingIDs(filter, limit: Self.bulkLimit + 1, in: session)
        }
        let context = pageContext(request)
        guard form["confirm"] == "yes" else {
            let page = BulkActions.confirmation(kind, filter: filter, matching: ids.count, limit: Self.bulkLimit, context)
            return .page(Layout.page(title: "\(kind.label) jobs", section: "jobs", context: context, flash: nil, content: page))
        }
        var done = 0
        var skipped = 0
        for id in ids.prefix(Self.bulkLimit) {
            let changed = try await perform(kind, on: id)
            if changed { done += 1 } else { skipped += 1 }
        }
        let message = "\(kind.pastTense) \(done) jobs" + (skipped > 0 ? "; \(skipped) were left as they were (their status did not allow it)." : ".")
        return .redirect(context.path("jobs", filter.parameters + [("done", message)]), message: message)
    }

    /// Checks and decodes an action's request, runs `body`, and answers: the message alone to
    /// the pages' script, else a redirect back with the message (or a page of its own).
    func act(_ request: Request, _ body: ([String: String]) async throws -> ActionResult) async -> Response {
        var request = request
        let isScript = request.headers[Self.fragmentHeader] != nil
        func refuse(_ status: HTTPResponse.Status, _ message: String) -> Response {
            Response(status: status, headers: Self.securityHeaders, body: ResponseBody(byteBuffer: ByteBuffer(string: message)))
        }
        guard !options.readOnly else { return refuse(.forbidden, "This dashboard is read-only.") }
        // A browser names the site a request comes from; another site's is refused.
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site != "same-origin", site != "none" {
            return refuse(.forbidden, "Actions come from the dashboard's own pages only.")
        }
        let form: [String: String]
        do {
            let buffer = try await request.collectBody(upTo: 64 * 1024)
            form = try URLEncodedFormDecoder().decode([String: String].self, from: String(buffer: buffer))
        } catch {
            return refuse(.badRequest, "The form could not be read.")
        }
        guard constantTimeEqual(form["csrf"] ?? "", csrfToken) else {
            return refuse(.forbidden, "The page is out of date (its token does not match): reload it and try again.")
        }
        // Back to a page of the dashboard only (never `//elsewhere`, which a browser takes for a host).
        let back = form["return"].flatMap { path in
            path.hasPrefix(options.normalizedBasePath + "/") && !path.hasPrefix("//") && !path.contains("\\") ? path : nil
        } ?? pageContext(request).path("")
        do {
            switch try await body(form) {
            case .page(let html):
                return Self.html(html)
            case .redirect(let location, let message):
                return isScript ? refuse(.ok, message) : Self.redirect(location)
            case .message(let message):
                return isScript ? refuse(.ok, message) : Self.redirect(Self.adding(done: message, to: back))
            }
        } catch let error as NotFound {
            return refuse(.notFound, error.description)
        } catch let error as InvalidParameter {
            return refuse(.badRequest, error.description)
        } catch let error as InvalidQueueName {
            return refuse(.badRequest, error.description)
        } catch let error as SchemaError {
            // A database set up by Python alone: the action needs our migrations, as on the command line.
            return refuse(.conflict, "\(error)")
        } catch let error as DatabaseError where error.isTransient {
            connector.logger.error("Dashboard action failed: the database is unavailable: \(error)", metadata: ["action": "dashboard_database_unavailable"])
            return refuse(.serviceUnavailable, "The database is unavailable: \(error). The action was not confirmed: reload the page once the database answers to see whether it applied.")
        } catch {
            connector.logger.error("Dashboard action failed: \(error)", metadata: ["action": "dashboard_action_failed"])
            return refuse(.internalServerError, "The action failed: \(error)")
        }
    }

    static func redirect(_ location: String) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    /// `path` with `done=message` added to its query.
    static func adding(done message: String, to path: String) -> String {
        path + (path.contains("?") ? "&" : "?") + "done=" + PageContext.encode(message)
    }
}

/// What an action answers.
enum ActionResult {
    /// A message; the user stays on the page they acted from.
    case message(String)
    /// A page of its own (a confirmation).
    case page(HTML)
    /// A message, and another page to go to.
    case redirect(String, message: String)
}
