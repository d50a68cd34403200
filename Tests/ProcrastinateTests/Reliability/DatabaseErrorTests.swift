import Foundation
import Testing
import _ConnectionPoolModule

@testable import PostgresNIO
@testable import Procrastinate

/// How errors of the connection and of its pool read.
@Suite struct DatabaseErrorTests {
    @Test func whatHappenedIsSaidOnceWhenTheServersWordsSayTheSame() {
        let closed = PSQLError.serverClosedConnection(underlying: PSQLError.serverClosedConnection(underlying: nil))
        let error = DatabaseError.wrapping(closed, endpoint: "db:5432/app")
        #expect("\(error)" == "PostgreSQL error at db:5432/app: the server closed the connection (it restarted, or the backend was terminated)")
    }

    @Test func aPoolThatGaveUpConnectingSaysSoInWords() {
        let error = DatabaseError.wrapping(ConnectionPoolError.connectionCreationCircuitBreakerTripped, endpoint: "db:5432/app")
        let database = try? #require(error as? DatabaseError)
        #expect(database?.isConnectionFailure == true && database?.isTransient == true)
        #expect(!"\(error)".contains("ConnectionPoolError"))
        #expect("\(error)".hasPrefix("cannot connect to PostgreSQL at db:5432/app: no connection could be made for a while"))
    }
}
