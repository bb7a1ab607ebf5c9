import Foundation

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
    /// - Throws: `WriteError` when any byte could not be written.
    static func write(_ bytes: [UInt8]) throws {
        guard fflush(stdout) == 0 else { throw WriteError(code: errno) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw WriteError(code: errno)
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
