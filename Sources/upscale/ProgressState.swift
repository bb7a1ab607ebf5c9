import Foundation
import UpscaleKit

/// The text of the progress display (the library's `FileProgress` of the batch's current file,
/// as the CLI shows it): pure formatting, no terminal I/O; `Console` draws it.
///
/// Work is counted in tiles of the whole batch where known, so the ETA covers the run rather than
/// one file: `fraction = (filesDone + tilesDone/tilesTotal) / files`.
struct ProgressState: Sendable, Equatable {
    var fileIndex: Int       // 0-based index of the file being worked on
    var fileCount: Int
    /// The file's name as it is; `bar` and `plainLine` show it escaped (TerminalText).
    var fileName: String
    var tilesDone: Int
    var tilesTotal: Int
    var elapsed: Double      // seconds since the run began
    /// Output rows of the file written so far, when it streams (0 of 0 otherwise).
    var rowsDone: Int
    var rowsTotal: Int

    init(fileIndex: Int, fileCount: Int, fileName: String, tilesDone: Int, tilesTotal: Int, elapsed: Double,
                rowsDone: Int = 0, rowsTotal: Int = 0) {
        self.fileIndex = fileIndex
        self.fileCount = fileCount
        self.fileName = fileName
        self.tilesDone = tilesDone
        self.tilesTotal = tilesTotal
        self.elapsed = elapsed
        self.rowsDone = rowsDone
        self.rowsTotal = rowsTotal
    }

    /// Fraction of the batch done, in 0…1.
    var fraction: Double {
        guard fileCount > 0 else { return 1 }
        let inFile = tilesTotal > 0 ? Double(tilesDone) / Double(tilesTotal) : 0
        return min(1, max(0, (Double(fileIndex) + inFile) / Double(fileCount)))
    }

    /// Seconds left at the rate so far, or nil before there is a rate to go by.
    var eta: Double? {
        let f = fraction
        guard f > 0.001, elapsed > 0.2 else { return nil }
        return elapsed * (1 - f) / f
    }

    /// One line for a terminal: `[#####.....]  3/10 files  tile 12/40  a.png  ETA 0:42`, cut to `width`.
    func bar(width: Int) -> String {
        let barWidth = 20
        let filled = Int((fraction * Double(barWidth)).rounded(.down))
        var line = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled) + "] "
        line += "\(fileIndex + 1)/\(fileCount) files"
        if tilesTotal > 0 { line += "  tile \(tilesDone)/\(tilesTotal)" }
        if rowsTotal > 0 { line += "  rows \(rowsDone)/\(rowsTotal)" }
        line += "  ETA " + (eta.map(BatchReport.formatSeconds) ?? "--")
        line += "  " + TerminalText.escape(fileName)
        return line.count > width ? String(line.prefix(max(0, width - 1))) + "…" : line
    }

    /// One plain line for logs: `progress 3/10 files, tile 12/40 of a.png, 27%, ETA 42.0 s`.
    var plainLine: String {
        var line = "progress \(fileIndex + 1)/\(fileCount) files"
        let name = TerminalText.escape(fileName)
        if tilesTotal > 0 { line += ", tile \(tilesDone)/\(tilesTotal) of \(name)" } else { line += ", \(name)" }
        if rowsTotal > 0 { line += ", rows \(rowsDone)/\(rowsTotal) written" }
        line += String(format: ", %.0f%%", fraction * 100)
        if let eta { line += ", ETA " + BatchReport.formatSeconds(eta) }
        return line
    }
}
