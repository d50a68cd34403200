import Foundation
import Testing

/// Runs the built `procrastinate` executable, as a user would.
struct CommandLineRunner {
    struct Output: Sendable {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// The executable built next to the test bundle.
    static var executable: URL {
        URL(filePath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "procrastinate")
    }

    /// Runs `procrastinate arguments…` with `environment` (nothing inherited but PATH), within a deadline.
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"]) { given, _ in given }
        let standardOutput = Pipe()
        let standardError = Pipe()
        process.standardOutput = standardOutput
        process.standardError = standardError
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes to their ends before waiting, so a chatty process never blocks on a full pipe.
        async let out = standardOutput.fileHandleForReading.readToEnd()
        async let err = standardError.fileHandleForReading.readToEnd()
        let (outData, errData) = try await (out, err)
        let status = try await within(.seconds(60), waitingFor: "procrastinate \(arguments.joined(separator: " "))") {
            process.waitUntilExit()
            return process.terminationStatus
        }
        return Output(
            status: status,
            standardOutput: String(decoding: outData ?? Data(), as: UTF8.self),
            standardError: String(decoding: errData ?? Data(), as: UTF8.self)
        )
    }
}
