import Foundation

/// What happened to one input; encoded as one entry of the `--json` report.
public struct FileReport: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case done, skipped, failed, cancelled
        /// Listed by `--dry-run`: would be processed.
        case planned
    }

    public var input: String
    public var output: String
    /// In `--json` only, for an `input` or `output` path that is not valid UTF-8: its exact bytes
    /// in hex (`input` then shows each byte that is not UTF-8 as the text `\xNN`).
    public var inputHex: String?
    public var outputHex: String?
    public var status: Status
    /// The user-facing error or skip reason; nil when done.
    public var message: String?
    public var seconds: Double
    public var inputWidth: Int?
    public var inputHeight: Int?
    public var outputWidth: Int?
    public var outputHeight: Int?
    /// Size of the written file in bytes.
    public var bytes: Int?
    /// Notes from the encoder (e.g. a 16-bit input written as 8-bit JPEG).
    public var notes: [String]?

    /// Records what a finished file was: its sizes, bytes and notes.
    public mutating func record(_ file: FileResult) {
        (inputWidth, inputHeight) = (file.inputWidth, file.inputHeight)
        (outputWidth, outputHeight) = (file.outputWidth, file.outputHeight)
        bytes = file.bytes
        notes = file.notes.isEmpty ? nil : file.notes.map(\.text)
    }

    public init(input: String, output: String, status: Status, message: String? = nil, seconds: Double = 0) {
        self.input = input
        self.output = output
        self.status = status
        self.message = message
        self.seconds = seconds
    }
}

/// The whole run: the `--json` document and the summary line.
public struct BatchReport: Codable, Sendable, Equatable {
    public struct Totals: Codable, Sendable, Equatable {
        public var files: Int
        public var done: Int
        public var skipped: Int
        public var failed: Int
        public var cancelled: Int
        public var seconds: Double
        /// Output megapixels written, divided by wall seconds.
        public var megapixelsPerSecond: Double
    }

    public var version = 1
    public var model: String
    /// In `--json` only: the model file's path in hex, when it is not valid UTF-8 (as `inputHex`).
    public var modelHex: String?
    public var scale: Int
    public var shard: String?
    public var interrupted: Bool
    public var files: [FileReport]
    public var totals: Totals

    public init(model: String, scale: Int, shard: String?, interrupted: Bool, files: [FileReport], seconds: Double) {
        self.model = model
        self.scale = scale
        self.shard = shard
        self.interrupted = interrupted
        self.files = files
        let outputPixels = files.filter { $0.status == .done }
            .reduce(0.0) { $0 + Double(($1.outputWidth ?? 0) * ($1.outputHeight ?? 0)) }
        totals = Totals(files: files.count,
                        done: files.count { $0.status == .done },
                        skipped: files.count { $0.status == .skipped },
                        failed: files.count { $0.status == .failed },
                        cancelled: files.count { $0.status == .cancelled },
                        seconds: seconds,
                        megapixelsPerSecond: seconds > 0 ? outputPixels / 1e6 / seconds : 0)
    }

    /// Pretty, key-sorted JSON with a trailing newline. Text is exact (JSON escapes controls); a
    /// path that is not valid UTF-8 shows its bytes that are not as the text `\xNN`, and comes with
    /// its exact bytes in hex beside it (`inputHex`, `outputHex`, `modelHex`).
    public func json() throws -> String {
        var document = self
        (document.model, document.modelHex) = TerminalText.jsonPath(model)
        for k in document.files.indices {
            (document.files[k].input, document.files[k].inputHex) = TerminalText.jsonPath(files[k].input)
            (document.files[k].output, document.files[k].outputHex) = TerminalText.jsonPath(files[k].output)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return TerminalText.jsonSafe(String(decoding: try encoder.encode(document), as: UTF8.self)) + "\n"
    }

    /// `3 done, 1 skipped, 1 failed in 2.4 s (5.1 MP/s)`.
    public var summary: String {
        var parts = ["\(totals.done) done", "\(totals.skipped) skipped", "\(totals.failed) failed"]
        if totals.cancelled > 0 { parts.append("\(totals.cancelled) cancelled") }
        return parts.joined(separator: ", ")
            + " in \(Self.formatSeconds(totals.seconds)) (\(String(format: "%.2f", totals.megapixelsPerSecond)) MP/s)"
    }

    public static func formatSeconds(_ s: Double) -> String {
        if s < 60 { return String(format: "%.1f s", s) }
        let total = Int(s.rounded())
        if total < 3600 { return String(format: "%d:%02d", total / 60, total % 60) }
        return String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
    }
}
