import Foundation
import UpscaleKit

// Plain-text tables: what `upscale models`, `eval` and `info` print.

/// A plain text table: columns padded to their widest cell. Cells are shown escaped
/// (TerminalText): a model's metadata can hold any text, newlines and terminal controls among it.
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = ([header] + rows).map { $0.map { TerminalText.escape($0) } }
        let widths = header.indices.map { col in all.map { $0.indices.contains(col) ? $0[col].count : 0 }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return all.map(line).joined(separator: "\n")
    }
}
