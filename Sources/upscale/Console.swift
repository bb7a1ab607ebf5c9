import Foundation
import UpscaleKit

/// Everything the CLI says on stderr: progress (bar on a terminal, plain lines otherwise), notes, errors.
final class Console: Sendable {
    enum Level { case quiet, normal, verbose }

    let level: Level
    let isTerminal: Bool
    let useColor: Bool
    /// What is on the terminal now; held while writing, so that lines from several threads
    /// never interleave with the bar.
    private struct Screen {
        var barShown = false
        var lastPlainLine = Date.distantPast
        var lastBar = Date.distantPast
    }
    private let screen = Locked(Screen())
    static let plainInterval = 5.0

    init(level: Level) {
        self.level = level
        isTerminal = isatty(STDERR_FILENO) == 1
        // https://no-color.org: any non-empty NO_COLOR turns colour off.
        let noColor = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        useColor = isTerminal && !noColor && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    /// Writes our own text and control sequences as they are: what came from a file or an
    /// argument is escaped (`line`) before it gets here.
    private func write(_ text: String) {
        StandardError.writeRaw(text)
    }

    /// A message as one line of a terminal: every control character and newline in it escaped.
    private func line(_ message: String) -> String {
        TerminalText.escape(message) + "\n"
    }

    private func clearBar(_ screen: inout Screen) {
        if screen.barShown { write("\r\u{1B}[K"); screen.barShown = false }
    }

    /// An error: always shown, names the file and what to do.
    func error(_ message: String) {
        screen.withLock { screen in
            clearBar(&screen)
            let prefix = useColor ? "\u{1B}[31merror:\u{1B}[0m " : "error: "
            write(prefix + line(message))
        }
    }

    /// A normal message (summary, per-file result on non-terminals).
    func info(_ message: String) {
        guard level != .quiet else { return }
        screen.withLock { clearBar(&$0); write(line(message)) }
    }

    /// A message shown only with --verbose.
    func detail(_ message: String) {
        guard level == .verbose else { return }
        screen.withLock { clearBar(&$0); write(line(message)) }
    }

    /// Progress: redraws the bar at most 10 times a second on a terminal; a plain line every
    /// `plainInterval` seconds otherwise; nothing with --quiet.
    func progress(_ state: ProgressState, force: Bool = false) {
        guard level != .quiet else { return }
        screen.withLock { screen in
            let now = Date()
            if isTerminal {
                guard force || now.timeIntervalSince(screen.lastBar) >= 0.1 else { return }
                screen.lastBar = now
                write("\r\u{1B}[K" + TerminalText.escape(state.bar(width: terminalWidth())))
                screen.barShown = true
            } else {
                guard force || now.timeIntervalSince(screen.lastPlainLine) >= Self.plainInterval else { return }
                screen.lastPlainLine = now
                write(line(state.plainLine))
            }
        }
    }

    func finishProgress() {
        screen.withLock { clearBar(&$0) }
    }

    private func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }
}
