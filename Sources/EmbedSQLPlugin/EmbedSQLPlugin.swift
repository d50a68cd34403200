import Foundation
import PackagePlugin

/// Embeds the package's `sql/` folder into the target as Swift source at build time, so that
/// an installed binary carries its schema and migrations without the source tree.
@main
struct EmbedSQLPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let sqlDirectory = context.package.directoryURL.appending(path: "sql")
        let migrationsDirectory = sqlDirectory.appending(path: "migrations")
        let schema = sqlDirectory.appending(path: "schema.sql")
        let migrations = (try? FileManager.default.contentsOfDirectory(
            at: migrationsDirectory, includingPropertiesForKeys: nil
        ))?.filter { $0.pathExtension == "sql" }.sorted { $0.lastPathComponent < $1.lastPathComponent } ?? []
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSQL.swift")

        return [
            .buildCommand(
                displayName: "Embedding sql/ into \(target.name)",
                executable: try context.tool(named: "EmbedSQL").url,
                arguments: [output.path(), schema.path()] + migrations.map { $0.path() },
                inputFiles: [schema] + migrations,
                outputFiles: [output]
            )
        ]
    }
}
