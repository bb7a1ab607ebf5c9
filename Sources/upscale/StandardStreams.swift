@preconcurrency import Glibc  // C's `stdout` (a global the C library owns) is read for fflush and ferror
import Foundation
import UpscaleKit

// The CLI's three standard streams, read and written with read(2)/write(2) and stdio rather than
// FileHandle, whose read and write methods trap on an I/O error.

/// Everything the CLI writes on stdout goes through stdio's `stdout` (`print`) or, for image
/// bytes, straight to file descriptor 1; a failed write (a full disk, a closed pipe) is an error
/// with a message and exit status 1, never a crash or a silent loss.
enum StandardOutput {
    /// A write to stdout that failed, with the reason.
    struct WriteError: Error, CustomStringConvertible {
        var code: Int32?  // errno, when known
        var description: String {
            "cannot write to stdout" + (code.map { ": " + String(cString: strerror($0)) } ?? " (an earlier write failed)")
        }
    }

    /// Makes writes fail with an error instead of killing the process: SIGPIPE (the reader of a
    /// pipe is gone; the write then fails with EPIPE) and SIGXFSZ (a file grew past `ulimit -f`;
    /// the write then fails with EFBIG, and that output is dropped while the batch goes on).
    static func ignoreWriteSignals() {
        signal(SIGPIPE, SIG_IGN)
        signal(SIGXFSZ, SIG_IGN)
    }

    /// Writes `bytes` to stdout, after anything `print` left buffered.
    /// - Throws: `ImageIOError` about the output, naming stdout, when any byte could not be written.
    static func write(_ bytes: UnsafeRawBufferPointer) throws {
        func failed(_ code: Int32) -> ImageIOError {
            ImageIOError(path: "stdout", message: "cannot write: " + String(cString: strerror(code)), side: .output)
        }
        guard fflush(stdout) == 0 else { throw failed(errno) }
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(STDOUT_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw failed(errno)
            }
            offset += written
        }
    }

    /// Flushes what `print` wrote; the error, if any write to stdout failed on the way.
    static func flush() -> WriteError? {
        if fflush(stdout) != 0 { return WriteError(code: errno) }
        if ferror(stdout) != 0 { return WriteError(code: nil) }
        return nil
    }
}

/// Messages on stderr. Best effort: a failed write there (a terminal closed under a SIGHUP,
/// `2>/dev/full`) has nowhere to be reported, and must not end the process (FileHandle's `write`
/// traps on errors), so it is ignored.
enum StandardError {
    /// Writes `text`, its lines as they are, with every control character in them and every byte
    /// of a path that is not UTF-8 escaped (TerminalText): the names it quotes cannot drive the
    /// terminal. A name's own newline is escaped by whoever puts the name into one line.
    static func write(_ text: String) {
        writeRaw(TerminalText.escape(text, keepNewlines: true))
    }

    /// `error: MESSAGE` on one line: the message's own newlines escaped too.
    static func error(_ message: String) {
        writeRaw("error: " + TerminalText.escape(message) + "\n")
    }

    /// Writes `text` as it is: for the terminal control sequences of the progress bar and colour.
    static func writeRaw(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            if written <= 0 { return }
            offset += written
        }
    }
}

/// The image read from stdin (`upscale -`).
enum StandardInput {
    /// A read from stdin that failed, with the reason.
    struct ReadError: Error, CustomStringConvertible {
        var code: Int32  // errno
        var description: String { "cannot read stdin: \(String(cString: strerror(code)))" }
    }

    /// The image on stdin, through its end and no further, in one buffer the decoder reads in
    /// place, of at most `limit` bytes.
    /// - Throws: `ReadError` (stdin closed, a folder, an I/O error); `ImageIOError` when the image
    ///   is over `limit`.
    static func readImage(limit: Int) throws -> ImageBytes {
        do {
            return try ImageBytes.readImage(descriptor: STDIN_FILENO, name: "stdin", limit: limit)
        } catch let failure as ImageBytes.ReadFailure {
            throw ReadError(code: failure.code)
        }
    }
}
