// Writes a Swift source file holding the project's SQL files as string literals.
//
// Usage: EmbedSQL OUTPUT SCHEMA_FILE [MIGRATION_FILE ...]
import Foundation

/// Renders `text` as a Swift string literal.
func literal(_ text: String) -> String {
    var result = "\""
    result.reserveCapacity(text.utf8.count + text.utf8.count / 8)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\\": result += "\\\\"
        case "\"": result += "\\\""
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        default:
            if scalar.value < 0x20 {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result + "\""
}

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: EmbedSQL OUTPUT SCHEMA_FILE [MIGRATION_FILE ...]\n".utf8))
    exit(2)
}
let output = URL(filePath: arguments[arguments.startIndex])
let schemaFile = URL(filePath: arguments[arguments.startIndex + 1])
let migrationFiles = arguments.dropFirst(2).map { URL(filePath: $0) }

do {
    var source = """
        // Generated at build time from the package's sql/ folder. Do not edit.

        enum EmbeddedSQL {
            /// The contents of sql/schema.sql.
            static let schema = \(literal(try String(contentsOf: schemaFile, encoding: .utf8)))

            /// The files of sql/migrations/, in name order.
            static let migrations: [(name: String, sql: String)] = [

        """
    for file in migrationFiles {
        let name = file.deletingPathExtension().lastPathComponent
        source += "        (\(literal(name)), \(literal(try String(contentsOf: file, encoding: .utf8)))),\n"
    }
    source += "    ]\n}\n"
    try source.write(to: output, atomically: true, encoding: .utf8)
} catch {
    FileHandle.standardError.write(Data("EmbedSQL: \(error)\n".utf8))
    exit(1)
}
