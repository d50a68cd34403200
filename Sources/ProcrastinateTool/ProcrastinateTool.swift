import ProcrastinateCLI

/// The standalone `procrastinate` executable: every command that needs no task code.
@main
enum ProcrastinateTool {
    static func main() async {
        await ProcrastinateCommand.main(arguments: nil)
    }
}
