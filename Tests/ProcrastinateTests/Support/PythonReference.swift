import Foundation
import Procrastinate
import Testing

/// Python Procrastinate 3.10, the reference implementation, in the virtualenv `scripts/test` makes.
enum PythonReference {
    struct NotFound: Error, CustomStringConvertible {
        var description: String { "PROCRASTINATE_PYTHON is not set: run `scripts/test`, which installs Python Procrastinate 3.10" }
    }

    /// The folder of the Python helpers, `Tests/ProcrastinateTests/Python`.
    static let folder = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../Python").path()

    /// Starts a script of `Tests/ProcrastinateTests/Python` with `arguments` under the reference Python.
    static func start(_ script: String, _ arguments: [String]) throws -> BackgroundProcess {
        try python(["\(folder)/\(script)"] + arguments)
    }

    /// Starts the reference Python with `arguments`, the helpers' folder on its path.
    static func python(_ arguments: [String], environment extra: [String: String] = [:]) throws -> BackgroundProcess {
        guard let python = ProcessInfo.processInfo.environment["PROCRASTINATE_PYTHON"] else { throw NotFound() }
        var environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        environment["PYTHONPATH"] = folder
        return try BackgroundProcess(path: python, arguments, environment: environment)
    }
}

extension PostgresConnector {
    /// The URL of this test database, for other processes.
    var testURL: String {
        get throws {
            let settings = try #require(self.settings)
            return "postgresql://\(settings.username)@\(settings.host):\(settings.port)/\(settings.database)"
        }
    }
}
