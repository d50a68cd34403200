import Foundation
import HTTPTypes
import Hummingbird

/// Who may open the standalone dashboard: anyone who reaches it (only sensible on
/// 127.0.0.1), HTTP basic authentication, or a bearer token.
public enum DashboardAuthentication: Sendable, Hashable {
    /// Anyone who reaches it.
    case none
    /// HTTP basic authentication with this user and password.
    case basic(user: String, password: String)
    /// `Authorization: Bearer TOKEN`.
    case bearer(token: String)

    /// The `Authorization` header value that passes.
    var expectedHeader: String? {
        switch self {
        case .none: nil
        case .basic(let user, let password): "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        case .bearer(let token): "Bearer \(token)"
        }
    }
}

/// Answers 401 to a request without the expected `Authorization` header, compared in
/// constant time.
struct AuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let authentication: DashboardAuthentication

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let expected = authentication.expectedHeader else { return try await next(request, context) }
        let given = request.headers[.authorization] ?? ""
        guard constantTimeEqual(given, expected) else {
            var headers = HTTPFields()
            if case .basic = authentication { headers[.wwwAuthenticate] = "Basic realm=\"Procrastinate\", charset=\"UTF-8\"" }
            return Response(status: .unauthorized, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: "authentication required\n")))
        }
        return try await next(request, context)
    }
}

/// Whether `a` and `b` are equal, in a time that depends on their lengths only.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let (left, right) = (Array(a.utf8), Array(b.utf8))
    guard left.count == right.count else { return false }
    return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
}
