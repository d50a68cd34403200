import Hummingbird
import Procrastinate
import ProcrastinateDashboard

// README "The dashboard" and the ProcrastinateDashboard catalogue.

func mountDashboard(connector: PostgresConnector, app: App) -> Router<BasicRequestContext> {
    let dashboard = Dashboard(connector: connector, app: app, options: DashboardOptions(basePath: "/admin/jobs"))
    let router = Router()
    router.add(middleware: MyAdminAuthentication())
    dashboard.addRoutes(to: router)
    return router
}

/// An application's own authentication: here, a token in a header.
struct MyAdminAuthentication: RouterMiddleware {
    func handle(_ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        guard request.headers[.authorization] == "Bearer change-me" else { return Response(status: .unauthorized) }
        return try await next(request, context)
    }
}
