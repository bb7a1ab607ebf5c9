import ArgumentParser
import Foundation
import UpscaleKit

/// `upscale models`: the models embedded in this binary.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the built-in models with their scale, size, cost and measured quality.")

    @Flag(help: "Print the table as JSON.")
    var json = false

    func run() throws {
        var rows: [[String]] = []
        var failed = false
        for name in BuiltinModels.names {
            guard let bytes = BuiltinModels.bytes(named: name) else { continue }
            do {
                let model = try Model(bytes: bytes, name: name)
                rows.append([name, "x\(model.scale)", model.channels.rawValue, "\(model.parameterCount)",
                             formatFlops(2 * model.macsPerOutputPixel), quality(model.metadata)])
            } catch {
                FileHandle.standardError.write(Data("error: built-in model \(name): \(error); rebuild the binary.\n".utf8))
                failed = true
            }
        }
        if json {
            let objects = rows.map { Dictionary(uniqueKeysWithValues: zip(Self.header.map { $0.lowercased() }, $0)) }
            let data = try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else if rows.isEmpty {
            print("This binary has no built-in models; pass -m PATH to use a weights file.")
        } else {
            print(Table.render(header: Self.header, rows: rows))
        }
        if failed { throw ExitCode.failure }
    }

    static let header = ["Name", "Scale", "Channels", "Parameters", "FLOPs/pixel", "Quality"]

    /// The measured quality the trainer stored in the model's metadata, e.g. `set5_psnr`.
    private func quality(_ metadata: [String: String]) -> String {
        let keys = metadata.keys.filter { $0.hasSuffix("_psnr") || $0.hasSuffix("_ssim") }.sorted()
        if keys.isEmpty { return "-" }
        return keys.map { key in
            let value = metadata[key] ?? ""
            return key.hasSuffix("_psnr") ? "\(key) \(value) dB" : "\(key) \(value)"
        }.joined(separator: ", ")
    }
}

func formatFlops(_ flops: Double) -> String {
    if flops >= 1e9 { return String(format: "%.2f G", flops / 1e9) }
    if flops >= 1e6 { return String(format: "%.2f M", flops / 1e6) }
    if flops >= 1e3 { return String(format: "%.1f k", flops / 1e3) }
    return String(format: "%.0f", flops)
}

/// A plain text table: columns padded to their widest cell.
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { col in all.map { $0.indices.contains(col) ? $0[col].count : 0 }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
