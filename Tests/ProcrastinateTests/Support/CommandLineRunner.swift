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

    /// Runs `procrastinate arguments…` (or another executable built next to the test bundle)
    /// with `environment` (nothing inherited but PATH) and `input` on standard input, within a deadline.
    static func run(
        _ arguments: [String], executable name: String = "procrastinate", environment: [String: String] = [:], input: String? = nil
    ) async throws -> Output {
        let process = Process()
        process.executableURL = executable.deletingLastPathComponent().appending(path: name)
        process.arguments = arguments
        process.environment = environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"]) { given, _ in given }
        let standardOutput = Pipe()
        let standardError = Pipe()
        process.standardOutput = standardOutput
        process.standardError = standardError
        let standardInput = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : standardInput
        try process.run()
        if let input {
            standardInput.fileHandleForWriting.write(Data(input.utf8))
            try standardInput.fileHandleForWriting.close()
        }
        // A process still running after a minute is killed, which ends the reads below.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            process.terminate()
        }
        defer { watchdog.cancel() }
        // Read both pipes to their ends before waiting, so a chatty process never blocks on a full pipe.
        async let out = standardOutput.fileHandleForReading.readToEnd()
        async let err = standardError.fileHandleForReading.readToEnd()
        let (outData, errData) = try await (out, err)
        process.waitUntilExit()
        let status = process.terminationStatus
        return Output(
            status: status,
            standardOutput: String(decoding: outData ?? Data(), as: UTF8.self),
            standardError: String(decoding: errData ?? Data(), as: UTF8.self)
        )
    }
}
