import Foundation
import Logging

/// Logs one JSON object per line on standard error (`--log-format json`), for log collectors.
///
/// ```json
/// {"action":"jobs_deferred","label":"procrastinate","level":"info","message":"Deferred 1 job(s)","time":"2026-01-01T00:00:00Z"}
/// ```
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: String] = [
            "time": ISO8601DateFormatter().string(from: Date()), "level": "\(event.level)", "label": label,
            "message": "\(event.message)",
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = "\(value)"
        }
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return
        }
        data.append(UInt8(ascii: "\n"))
        FileHandle.standardError.write(data)
    }
}
