import Cron
import Foundation
import Testing

@testable import Procrastinate

@Suite struct ConnectionSettingsTests {
    @Test func readsEveryPartOfAURL() throws {
        let settings = try ConnectionSettings(
            url: "postgresql://app%40corp:p%3Ass@db.example.com:6432/jobs%20db?sslmode=require", environment: [:]
        )
        #expect(settings == ConnectionSettings(
            host: "db.example.com", port: 6432, username: "app@corp", password: "p:ss", database: "jobs db", tlsMode: .require
        ))
        #expect(settings.endpoint == "db.example.com:6432/jobs db")
    }

    @Test func fillsMissingPartsFromTheLibpqVariables() throws {
        let environment = ["PGHOST": "pg", "PGPORT": "5433", "PGUSER": "u", "PGPASSWORD": "secret", "PGDATABASE": "d", "PGSSLMODE": "disable"]
        #expect(try ConnectionSettings(url: "postgres://", environment: environment) == ConnectionSettings(
            host: "pg", port: 5433, username: "u", password: "secret", database: "d", tlsMode: .disable
        ))
        #expect(try ConnectionSettings(environment: environment) == ConnectionSettings(url: "postgres://", environment: environment))
        // The URL wins over the variables.
        #expect(try ConnectionSettings(url: "postgres://other@h/x", environment: environment).username == "other")
    }

    @Test func defaultsLikeLibpq() throws {
        let settings = try ConnectionSettings(environment: ["USER": "alice"])
        #expect(settings == ConnectionSettings(host: "localhost", port: 5432, username: "alice", database: "alice", tlsMode: .prefer))
    }

    @Test func aHostThatIsADirectoryMeansAUnixSocket() throws {
        let settings = try ConnectionSettings(url: "postgresql:///app?host=/var/run/postgresql", environment: [:])
        #expect(settings.unixSocketPath == "/var/run/postgresql/.s.PGSQL.5432")
        #expect(settings.endpoint == "/var/run/postgresql/.s.PGSQL.5432/app")
    }

    @Test func resolvePrefersTheGivenURLThenTheProcrastinateVariable() throws {
        let environment = ["PROCRASTINATE_DATABASE_URL": "postgres://env@h/envdb", "PGDATABASE": "pg"]
        #expect(try ConnectionSettings.resolve(url: "postgres://given@h/given", environment: environment).database == "given")
        #expect(try ConnectionSettings.resolve(url: nil, environment: environment).database == "envdb")
        #expect(try ConnectionSettings.resolve(url: nil, environment: ["PGDATABASE": "pg"]).database == "pg")
    }

    @Test(arguments: [
        ("mysql://u@h/d", "invalid database URL 'mysql://u@h/d': the scheme must be postgres:// or postgresql://, not mysql://"),
        ("postgres://u:hunter2@h:99999/d", "invalid database URL 'postgres://u:***@h:99999/d': invalid port '99999'"),
        ("postgres://u@h/d?sslmode=always", "invalid database URL 'postgres://u@h/d?sslmode=always': invalid sslmode 'always' (expected one of allow, disable, prefer, require, verify-ca, verify-full)"),
        ("not a url", "invalid database URL 'not a url': not a URL"),
        ("postgres://u:p@ss w#rd@h/d", "invalid database URL 'postgres://u:***@h/d': not a URL"),
    ])
    func rejectsBadURLsNamingThemWithoutThePassword(url: String, message: String) {
        #expect(throws: ConnectionSettingsError.self) {
            try ConnectionSettings(url: url, environment: [:])
        }
        do {
            _ = try ConnectionSettings(url: url, environment: [:])
        } catch {
            #expect(error.description == message)
            #expect(error.localizedDescription == message)
        }
    }

    @Test func everyErrorSaysItsDescriptionAsLocalizedDescription() {
        let errors: [any ProcrastinateError] = [
            AlreadyEnqueued(queueingLock: "k"), UnknownTask(name: "x", knownNames: ["a"]), JobTimedOut(timeout: .seconds(1)),
            SchemaError.missing(endpoint: "db:5432/app"), AppNotOpen(endpoint: "db:5432/app"),
        ]
        for error in errors {
            #expect((error as any Error).localizedDescription == error.description)
            #expect(!error.description.contains("The operation could not be completed"))
        }
        #expect(throws: CronParseError.self) {
            do {
                _ = try CronExpression("61 * * * *")
            } catch {
                #expect(error.localizedDescription == "\(error)")
                throw error
            }
        }
    }
}
