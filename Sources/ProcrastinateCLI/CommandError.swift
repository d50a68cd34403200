/// A command-line mistake reported in one line (`Error: …`, exit status 1), without usage help.
struct CommandError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
