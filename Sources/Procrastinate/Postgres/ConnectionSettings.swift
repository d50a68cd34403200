public import Foundation
public import PostgresNIO

/// Where and how to connect to PostgreSQL.
///
/// Built from a `postgres://` / `postgresql://` URL, or from the libpq environment variables
/// (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`) that psycopg users
/// already set. URL parts that are missing fall back to those variables, then to libpq's
/// defaults.
public struct ConnectionSettings: Sendable, Hashable {
    /// Whether and how to use TLS, with libpq's `sslmode` names.
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP only.
        case disable
        /// TLS when the server offers it, without certificate verification; plain TCP otherwise.
        case prefer
        /// TLS required, without certificate verification.
        case require
        /// TLS required, the certificate chain verified (not the host name).
        case verifyCA = "verify-ca"
        /// TLS required, the certificate and the host name verified.
        case verifyFull = "verify-full"
    }

    /// Host name or address; a path starting with `/` is a directory holding a Unix socket.
    public var host: String
    /// TCP port (also the suffix of the Unix socket name).
    public var port: Int
    /// User name.
    public var username: String
    /// Password, if the server asks for one.
    public var password: String?
    /// Database name.
    public var database: String
    /// TLS mode.
    public var tlsMode: TLSMode

    /// Creates settings from their parts.
    public init(
        host: String = "localhost",
        port: Int = 5432,
        username: String,
        password: String? = nil,
        database: String,
        tlsMode: TLSMode = .prefer
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tlsMode = tlsMode
    }

    /// `host:port/database`, the way errors and logs name the server (never the password).
    public var endpoint: String {
        let place = host.hasPrefix("/") ? "\(host)/.s.PGSQL.\(port)" : "\(host):\(port)"
        return "\(place)/\(database)"
    }

    /// The path of the server's Unix socket, when `host` is a directory.
    var unixSocketPath: String? {
        host.hasPrefix("/") ? "\(host)/.s.PGSQL.\(port)" : nil
    }
}

// MARK: - Parsing

extension ConnectionSettings {
    /// Settings from a `postgres://user:password@host:port/database?sslmode=…` URL; parts the
    /// URL leaves out come from `environment` (libpq variables) and libpq's defaults.
    ///
    /// Query parameters understood: `sslmode`, `host` (e.g. a socket directory), `port`,
    /// `user`, `password`, `dbname`.
    public init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConnectionSettingsError) {
        guard let components = URLComponents(string: url),
            let scheme = components.scheme?.lowercased()
        else {
            throw ConnectionSettingsError(input: url, reason: "not a URL")
        }
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw ConnectionSettingsError(input: url, reason: "the scheme must be postgres:// or postgresql://, not \(scheme)://")
        }
        var parameters: [String: String] = [:]
        for item in components.queryItems ?? [] {
            parameters[item.name] = item.value ?? ""
        }
        let path = components.percentEncodedPath.dropFirst()
        try self.init(
            host: parameters["host"] ?? components.host.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding },
            port: parameters["port"] ?? components.port.map(String.init),
            username: parameters["user"] ?? components.percentEncodedUser?.removingPercentEncoding,
            password: parameters["password"] ?? components.percentEncodedPassword?.removingPercentEncoding,
            database: parameters["dbname"] ?? (path.isEmpty ? nil : String(path).removingPercentEncoding),
            sslmode: parameters["sslmode"],
            environment: environment,
            input: url
        )
    }

    /// Settings from the libpq environment variables alone.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConnectionSettingsError) {
        try self.init(
            host: nil, port: nil, username: nil, password: nil, database: nil, sslmode: nil,
            environment: environment, input: "the PG* environment variables"
        )
    }

    /// The settings a command-line user means: `url` when given, else `PROCRASTINATE_DATABASE_URL`,
    /// else the libpq variables.
    ///
    /// - Throws: ``ConnectionSettingsError`` for a `url` given empty, or one that does not parse.
    public static func resolve(
        url: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConnectionSettingsError) -> ConnectionSettings {
        // A URL given on purpose must say something; an empty variable counts as unset.
        if let url, url.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ConnectionSettingsError(
                input: url, reason: "it is empty: give a postgresql:// URL, or leave the option out to use PROCRASTINATE_DATABASE_URL or the PG* variables"
            )
        }
        if let url = url ?? environment["PROCRASTINATE_DATABASE_URL"], !url.isEmpty {
            return try ConnectionSettings(url: url, environment: environment)
        }
        return try ConnectionSettings(environment: environment)
    }

    private init(
        host: String?, port: String?, username: String?, password: String?, database: String?, sslmode: String?,
        environment: [String: String], input: String
    ) throws(ConnectionSettingsError) {
        func value(_ given: String?, _ variable: String) -> String? {
            if let given, !given.isEmpty { return given }
            if let fromEnvironment = environment[variable], !fromEnvironment.isEmpty { return fromEnvironment }
            return nil
        }
        let portText = value(port, "PGPORT") ?? "5432"
        guard let portNumber = Int(portText), (1...65535).contains(portNumber) else {
            throw ConnectionSettingsError(input: input, reason: "invalid port '\(portText)'")
        }
        let modeText = value(sslmode, "PGSSLMODE") ?? "prefer"
        let mode: TLSMode
        switch modeText {
        case "allow": mode = .prefer
        default:
            guard let known = TLSMode(rawValue: modeText) else {
                let names = (["allow"] + TLSMode.allCases.map(\.rawValue)).joined(separator: ", ")
                throw ConnectionSettingsError(input: input, reason: "invalid sslmode '\(modeText)' (expected one of \(names))")
            }
            mode = known
        }
        let user = value(username, "PGUSER") ?? environment["USER"] ?? "postgres"
        self.init(
            host: value(host, "PGHOST") ?? "localhost",
            port: portNumber,
            username: user,
            password: value(password, "PGPASSWORD"),
            database: value(database, "PGDATABASE") ?? user,
            tlsMode: mode
        )
    }
}


// MARK: - PostgresNIO configurations

extension ConnectionSettings {
    private var tlsConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch tlsMode {
        case .disable, .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        return configuration
    }

    /// The configuration of a PostgresNIO connection pool for these settings.
    public var clientConfiguration: PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let unixSocketPath {
            configuration = .init(unixSocketPath: unixSocketPath, username: username, password: password, database: database)
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch tlsMode {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(tlsConfiguration)
            case .require, .verifyCA, .verifyFull: tls = .require(tlsConfiguration)
            }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        }
        configuration.options.additionalStartupParameters = [("application_name", "procrastinate-swift")]
        return configuration
    }

    /// The configuration of a single PostgresNIO connection for these settings.
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let unixSocketPath {
            configuration = .init(unixSocketPath: unixSocketPath, username: username, password: password, database: database)
        } else {
            let tls: PostgresConnection.Configuration.TLS
            switch tlsMode {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(try NIOSSLContext(configuration: tlsConfiguration))
            case .require, .verifyCA, .verifyFull: tls = .require(try NIOSSLContext(configuration: tlsConfiguration))
            }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        }
        configuration.options.additionalStartupParameters = [("application_name", "procrastinate-swift")]
        return configuration
    }
}
