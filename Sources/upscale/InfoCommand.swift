import ArgumentParser
import Foundation
import UpscaleKit
import UpscaleModels

/// `upscale info FILE`: what a weights file holds, or why it cannot be loaded.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a weights file's scale, metadata and layer table, or why it cannot be loaded.",
        discussion: "FILE may also name a built-in model (x2, x3, x4).")

    @Argument(help: ArgumentHelp("A weights file, or the name of a built-in model.", valueName: "file"))
    var file: String

    func run() throws {
        let model: Model
        do {
            let source = try ModelSource.resolve(model: file, scale: nil, builtinNames: BuiltinModels.names)
            model = try source.load(builtin: BuiltinModels.bytes(named:))
        } catch {
            let text = String(describing: error)
            let message = text.contains(file) ? text : "\(file): \(text)"
            StandardError.error(message)
            throw ExitCode.failure
        }
        print("file        \(TerminalText.escape(file))")
        print("scale       x\(model.scale)")
        print("channels    \(model.channels.rawValue)")
        print("residual    \(model.residual.rawValue)")
        if model.inputPadding > 0 { print("padding     \(model.inputPadding) input pixels, replicated from the border") }
        print("parameters  \(model.parameterCount)")
        print("FLOPs       \(formatFlops(2 * model.macsPerOutputPixel)) per output pixel")
        print("halo        \(model.receptiveHalo) input pixels")
        if !model.metadata.isEmpty {
            print("\nmetadata")
            print(Table.render(header: ["Key", "Value"],
                               rows: model.metadata.sorted { $0.key < $1.key }.map { [$0.key, $0.value] }))
        }
        print("\nlayers (conv_transpose2d, then activation)")
        let rows = model.layers.enumerated().map { k, layer -> [String] in
            ["\(k)", "\(layer.inChannels)", "\(layer.outChannels)", "\(layer.kernel.0)x\(layer.kernel.1)",
             "\(layer.stride.0),\(layer.stride.1)", "\(layer.padding.0),\(layer.padding.1)",
             "\(layer.outputPadding.0),\(layer.outputPadding.1)", "\(layer.dilation.0),\(layer.dilation.1)",
             "\(layer.groups)", layer.bias == nil ? "no" : "yes", describe(layer.activation)]
        }
        print(Table.render(header: ["#", "In", "Out", "Kernel", "Stride", "Padding", "OutPad", "Dilation", "Groups",
                                    "Bias", "Activation"], rows: rows))
    }

    private func describe(_ activation: Activation) -> String {
        switch activation {
        case .prelu(let slopes): return slopes.count == 1 ? "prelu(\(slopes[0]))" : "prelu(\(slopes.count) slopes)"
        default: return "\(activation)"
        }
    }
}
