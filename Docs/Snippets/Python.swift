import Foundation
import Procrastinate

// Article "Sharing a database with Python".

struct Sum: Codable, Sendable {
    var a: Int
    var b: Int
}

enum PythonTasks {
    static let sum = TaskName<Sum>("myapp.tasks.sum")
}

func sharing(app: App) async throws {
    try await app.defer(PythonTasks.sum, Sum(a: 3, b: 5))
    try await app.configureTask(name: "myapp.tasks.sum").defer(["a": 3, "b": 5])
    _ = try app.task("myapp.tasks.sum") { (arguments: Sum) in
        print(arguments.a + arguments.b)
    }
}
