import ArgumentParser
import Foundation
import UpscaleKit
import UpscaleModels

/// `upscale models`: the models embedded in this binary.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List the built-in models with their scale, size, cost and measured quality.")

    @Flag(help: "Print the table as JSON.")
    var json = false

    /// One model in `--json`: numbers as JSON numbers.
    struct Entry: Encodable {
        var name: String
        var scale: Int
        var channels: String
        var parameters: Int
        /// Floating-point operations per output pixel, rounded to a whole number (x3's are a fraction).
        var flopsPerPixel: Int
        /// The measured quality from the metadata, e.g. `"set5_psnr": 36.58` (dB) or `"set5_ssim": 0.9544`.
        var quality: [String: Double]
    }

    func run() throws {
        var entries: [Entry] = []
        var failed = false
        for name in BuiltinModels.names {
            guard let bytes = BuiltinModels.bytes(named: name) else { continue }
            do {
                let model = try Model(bytes: bytes, name: name)
                entries.append(Entry(name: name, scale: model.scale, channels: model.channels.rawValue,
                                     parameters: model.parameterCount, flopsPerPixel: Int((2 * model.macsPerOutputPixel).rounded()),
                                     quality: quality(model.metadata)))
            } catch {
                StandardError.error("built-in model \(name): \(error); rebuild the binary.")
                failed = true
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(TerminalText.jsonSafe(String(decoding: try encoder.encode(entries), as: UTF8.self)))
        } else if entries.isEmpty {
            print("This binary has no built-in models; pass -m PATH to use a weights file.")
        } else {
            print(Table.render(header: Self.header, rows: entries.map { entry in
                [entry.name, "x\(entry.scale)", entry.channels, "\(entry.parameters)", formatFlops(Double(entry.flopsPerPixel)),
                 qualityText(entry.quality)]
            }))
        }
        if failed { throw ExitCode.failure }
    }

    static let header = ["Name", "Scale", "Channels", "Parameters", "FLOPs/pixel", "Quality"]

    /// The measured quality the trainer stored in the model's metadata (keys ending in `_psnr` or
    /// `_ssim`, values that are numbers).
    private func quality(_ metadata: [String: String]) -> [String: Double] {
        metadata.filter { $0.key.hasSuffix("_psnr") || $0.key.hasSuffix("_ssim") }.compactMapValues { Double($0) }
    }

    /// `set5_psnr 36.58 dB, set5_ssim 0.9544`, or `-`.
    private func qualityText(_ quality: [String: Double]) -> String {
        if quality.isEmpty { return "-" }
        return quality.keys.sorted().map { key in
            let value = quality[key] ?? 0
            // As measured: PSNR to 0.01 dB, SSIM to 4 places (0.9170, not 0.917).
            return key.hasSuffix("_psnr") ? "\(key) \(String(format: "%.2f", value)) dB" : "\(key) \(String(format: "%.4f", value))"
        }.joined(separator: ", ")
    }
}

func formatFlops(_ flops: Double) -> String {
    if flops >= 1e9 { return String(format: "%.2f G", flops / 1e9) }
    if flops >= 1e6 { return String(format: "%.2f M", flops / 1e6) }
    if flops >= 1e3 { return String(format: "%.1f k", flops / 1e3) }
    return String(format: "%.0f", flops)
}
