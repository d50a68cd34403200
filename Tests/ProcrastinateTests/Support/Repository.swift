import Foundation

/// Paths inside the repository, for tests that read its files.
enum Repository {
    /// The repository's root folder.
    static let root = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../..").standardized

    /// `crontabs/`.
    static var crontabs: String { root.appending(path: "crontabs").path() }
}
