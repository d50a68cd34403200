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
        // Read both pipes to their ends before waiting, so a chatty process never blocks on a full
        // pipe; on threads of their own, since the reads block (on the tests' shared threads they
        // would stall every other test until this process ends).
        async let out = Self.readToEnd(standardOutput.fileHandleForReading)
        async let err = Self.readToEnd(standardError.fileHandleForReading)
        let (outData, errData) = await (out, err)
        while process.isRunning {
            try await Task.sleep(for: .milliseconds(5))
        }
        let status = process.terminationStatus
        return Output(
            status: status,
            standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self)
        )
    }

    /// Everything `handle` gives until its end, read on a thread of its own.
    private static func readToEnd(_ handle: FileHandle) async -> Data {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: (try? handle.readToEnd()) ?? Data()) }.start()
        }
    }
}
