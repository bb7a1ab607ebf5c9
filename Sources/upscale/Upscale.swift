import ArgumentParser
import Foundation
import UpscaleKit

@main
struct Upscale: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upscale",
        abstract: "Upscale PNG and JPEG images with a small neural network.",
        discussion: """
        Without a subcommand, upscale runs `upscale run`: see `upscale run --help` for every option.

        Examples:
          upscale photo.png                      writes photo_x2.png beside it
          upscale photo.jpg -s 4 -o big.png      4x, written as PNG
          upscale photos/ -r -o out/             a folder tree, mirrored in out/
          upscale photos/ -o out/ --shard 3/8    the 3rd of 8 parts (one machine of 8)
          upscale - -f png < in.png > out.png    stdin to stdout
          upscale models                         the built-in models
          upscale info weights.bin               a weights file's layers and metadata
          upscale import m.param -o m.bin        another tool's model as a weights file

        Exit status: 0 all inputs done or skipped, 1 any input failed, 64 bad usage, 130 interrupted.
        """,
        version: "0.1.0",
        subcommands: [RunCommand.self, ModelsCommand.self, InfoCommand.self, EvalCommand.self, ImportCommand.self],
        defaultSubcommand: RunCommand.self
    )

    /// ArgumentParser's `main()`, plus: the arguments are read as the bytes they are, write errors
    /// on stdout are seen (a message and exit 1, also for help text), `help NAME` with an unknown
    /// NAME is a usage error, and error messages are escaped for the terminal.
    static func main() {
        ProcessMemory.shareOneArenaUnderAddressLimit()
        StandardOutput.ignoreWriteSignals()
        let arguments = rawArguments()
        if let topic = unknownHelpTopic(arguments) {
            let names = configuration.subcommands.compactMap { $0.configuration.commandName }
            StandardError.error("'\(topic)' is not a subcommand; the subcommands are \(names.joined(separator: ", ")).")
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        if let name = RunCommand.dashedFileName(in: arguments) {
            StandardError.write("error: '\(name)' starts with a dash, so it would be read as options; to name a file "
                                + "that starts with a dash, write ./\(name), or put -- before it after the options (upscale -o out.png -- \(name)).\n")
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        var failure: Error?
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            failure = error
        }
        if let clean = failure, exitCode(for: clean) == .success {
            // Help and --version: printed here rather than by exit(withError:), so that a failed
            // write is caught below.
            let text = fullMessage(for: clean)
            if !text.isEmpty { print(text) }
            failure = nil
        }
        if let writeError = StandardOutput.flush() {
            StandardError.error("\(writeError).")
            if failure == nil { failure = ExitCode.failure }
        }
        guard let failure else { Foundation.exit(0) }
        // ArgumentParser's `exit(withError:)`, but through StandardError, which escapes the
        // argument an "unknown option" message repeats.
        let text = fullMessage(for: failure)
        if !text.isEmpty { StandardError.write(text + "\n") }
        Foundation.exit(exitCode(for: failure).rawValue)
    }

    /// The arguments after the program name, each as the bytes it is (PathBytes).
    /// `CommandLine.arguments` replaces bytes that are not UTF-8 with U+FFFD, so that a file named
    /// `caf\xe9.png` could not be opened under the name it was given.
    static func rawArguments() -> [String] {
        (1..<Int(CommandLine.argc)).compactMap { k in CommandLine.unsafeArgv[k].map { String(pathCString: $0) } }
    }

    /// The first name after `help` that is not a subcommand (ArgumentParser would show the
    /// overview for it and exit 0), or nil.
    static func unknownHelpTopic(_ arguments: [String]) -> String? {
        guard arguments.first == "help" else { return nil }
        var command: ParsableCommand.Type = Upscale.self
        for name in arguments.dropFirst() where !name.hasPrefix("-") {
            guard let sub = command.configuration.subcommands.first(where: { $0.configuration.commandName == name }) else {
                return name
            }
            command = sub
        }
        return nil
    }
}
