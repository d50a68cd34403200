import Foundation
import PostgresNIO
import _ConnectionPoolModule

/// An error reported by PostgreSQL or by the connection to it, in words.
///
/// PostgresNIO keeps server messages out of its errors' descriptions; this type brings them
/// back, so that logs and command-line users see what went wrong.
public struct DatabaseError: ProcrastinateError {
    /// Where the error happened, e.g. `127.0.0.1:5432/app`.
    public var endpoint: String
    /// The SQLSTATE code, for errors the server reported (`23505` for a unique violation, …).
    public var sqlState: String?
    /// The server's or the connection's message.
    public var message: String
    /// The server's detail line, if any.
    public var detail: String?
    /// The constraint the error is about, if any.
    public var constraintName: String?
    /// Whether the connection could not be established at all.
    public var isConnectionFailure: Bool

    public var description: String {
        if isConnectionFailure {
            return "cannot connect to PostgreSQL at \(endpoint): \(message)" + (advice.map { ": \($0)" } ?? "")
        }
        var text = "PostgreSQL error"
        if let sqlState { text += " \(sqlState)" }
        text += " at \(endpoint): \(message)"
        if let detail { text += " (\(detail))" }
        return text
    }

    /// What to do about a connection that failed, when the cause says.
    private var advice: String? {
        switch sqlState {
        case "3D000": return "create it, or fix the database name in the URL (or PGDATABASE)"
        case "28P01", "28000": return "check the user name and password in the URL (or PGUSER and PGPASSWORD)"
        case nil where message == "connection refused": return "is PostgreSQL running, and listening on that host and port?"
        case nil where message == "cannot resolve the host name": return "check the host name in the URL (or PGHOST)"
        default: return nil
        }
    }

    /// Whether trying again later may succeed: the connection failed, the server did not
    /// answer, was starting or shutting down, ran out of resources, or rolled the transaction
    /// back for a conflict (SQLSTATE classes 08, 40, 53, 57, 58 and lock timeouts), rather than
    /// rejecting the statement itself.
    public var isTransient: Bool {
        guard let sqlState else { return true }
        return ["08", "40", "53", "57", "58"].contains(String(sqlState.prefix(2))) || sqlState == "55P03"
    }

    /// `error` described for humans: a `PSQLError` becomes a `DatabaseError`, anything else is
    /// returned as it is.
    public static func wrapping(_ error: any Error, endpoint: String) -> any Error {
        if let poolError = error as? ConnectionPoolError {
            return wrapping(poolError, endpoint: endpoint)
        }
        guard let error = error as? PSQLError else { return error }
        if let serverInfo = error.serverInfo {
            let sqlState = serverInfo[.sqlState]
            return DatabaseError(
                endpoint: endpoint,
                sqlState: sqlState,
                message: serverInfo[.message] ?? "unknown error",
                detail: serverInfo[.detail],
                constraintName: serverInfo[.constraintName],
                // Class 28 (authentication) and 3D000 (unknown database) reject the connection.
                isConnectionFailure: sqlState.map { $0.hasPrefix("28") || $0 == "3D000" } ?? false
            )
        }
        if let inner = error.underlying as? PSQLError, var wrapped = wrapping(inner, endpoint: endpoint) as? DatabaseError {
            // The server's own words (a FATAL error before it closed the connection), after what
            // happened, unless they say the same.
            let happened = describe(error.code)
            if !wrapped.message.hasPrefix(happened) { wrapped.message = "\(happened): \(wrapped.message)" }
            return wrapped
        }
        let message = error.underlying.map { describeUnderlying($0) } ?? describe(error.code)
        let isConnectionFailure = error.code == .connectionError || error.code == .sslUnsupported
            || error.code == .failedToAddSSLHandler || error.code == .authMechanismRequiresPassword
            || error.code == .unsupportedAuthMechanism
        return DatabaseError(
            endpoint: endpoint, sqlState: nil, message: message, detail: nil, constraintName: nil,
            isConnectionFailure: isConnectionFailure
        )
    }

    /// The server did not answer within `timeout`; the connection was closed.
    static func noAnswer(endpoint: String, within timeout: Duration) -> DatabaseError {
        DatabaseError(
            endpoint: endpoint, sqlState: nil, message: noAnswerMessage(within: timeout) + "; the connection was closed and the pool will open another",
            detail: nil, constraintName: nil, isConnectionFailure: false
        )
    }

    /// No connection could be made within `timeout`.
    static func noConnection(endpoint: String, within timeout: Duration) -> DatabaseError {
        DatabaseError(
            endpoint: endpoint, sqlState: nil,
            message: "no connection within \(timeout): the server accepts none (is PostgreSQL running?), or every connection of the pool is busy",
            detail: nil, constraintName: nil, isConnectionFailure: true
        )
    }

    private static func noAnswerMessage(within timeout: Duration) -> String { "no answer within \(timeout)" }

    /// Whether this is ``noAnswer(endpoint:within:)``'s error.
    var isNoAnswer: Bool { sqlState == nil && message.hasPrefix("no answer within ") }

    /// A connection pool's error, in words.
    private static func wrapping(_ error: ConnectionPoolError, endpoint: String) -> DatabaseError {
        let message = switch error {
        case .connectionCreationCircuitBreakerTripped:
            "no connection could be made for a while, so the pool stopped trying for now; is PostgreSQL running and accepting connections?"
        case .poolShutdown: "the connection pool is closed (the app is no longer open)"
        case .requestCancelled: "the request for a connection was cancelled"
        default: "the connection pool failed (\(error))"
        }
        return DatabaseError(
            endpoint: endpoint, sqlState: nil, message: message, detail: nil, constraintName: nil,
            isConnectionFailure: error == .connectionCreationCircuitBreakerTripped
        )
    }

    /// What a PostgresNIO error code means, in words that say what happened to the connection.
    private static func describe(_ code: PSQLError.Code) -> String {
        switch code {
        case .serverClosedConnection: "the server closed the connection (it restarted, or the backend was terminated)"
        case .clientClosedConnection: "the connection was closed"
        case .uncleanShutdown: "the connection ended without a proper shutdown"
        case .connectionError: "the connection failed"
        case .poolClosed: "the connection pool is closed (the app is no longer open)"
        case .queryCancelled: "the query was cancelled"
        case .sslUnsupported: "the server does not accept SSL connections: use sslmode=disable or sslmode=prefer in the URL"
        case .failedToAddSSLHandler: "the SSL connection could not be set up"
        case .authMechanismRequiresPassword: "the server asks for a password: add it to the URL or set PGPASSWORD"
        case .unsupportedAuthMechanism: "the server asks for an authentication method this client does not support"
        case .saslError: "SCRAM authentication failed: check the password"
        case .tooManyParameters: "the query has too many parameters"
        case .unexpectedBackendMessage, .messageDecodingFailure, .invalidCommandTag:
            "the server sent a message the client did not expect (\(code))"
        default: "\(code)"
        }
    }

    private static func describeUnderlying(_ error: any Error) -> String {
        if let connectionError = error as? NIOConnectionError {
            if let first = connectionError.connectionErrors.first {
                return describeUnderlying(first.error)
            }
            if connectionError.dnsAAAAError != nil || connectionError.dnsAError != nil {
                return "cannot resolve the host name"
            }
            return "no address to connect to"
        }
        if let ioError = error as? IOError {
            return String(cString: strerror(ioError.errnoCode)).lowercased()
        }
        return String(describing: error)
    }
}
