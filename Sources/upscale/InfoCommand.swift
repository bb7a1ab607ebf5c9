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
            model = try source.load(builtin: BuiltinModels.bytes(named:), threads: Threading.coreCount)
        } catch {
            StandardError.error(modelMessage(error, name: file))
            throw ExitCode.failure
        }
        print("file        \(TerminalText.escape(file))")
        print("scale       x\(model.scale)")
        print("channels    \(model.channels.rawValue)")
        print("residual    \(model.residual.rawValue)")
        if model.inputPadding > 0 { print("padding     \(model.inputPadding) input pixels, replicated from the border") }
        print("parameters  \(model.parameterCount)")
        print("FLOPs       \(formatFlops(2 * model.macsPerOutputPixel)) per output pixel")
        if let graph = model.graph {
            print("graph       \(graph.nodes.count) nodes, input sizes padded to a multiple of \(graph.sizeMultiple)")
            print("reach       \(graph.receptiveRadius) input pixels of context around each output pixel")
            // The streamed run's buffers (replayed on integers, as the run's memory check does): what
            // a width needs, for a height past the receptive field.
            for (w, h) in [(1280, 720), (1920, 1080)] {
                let bytes = graph.pipelineBytes(height: h, width: w)
                print("memory      \(bytes / 1_000_000) MB of streamed buffers for a \(w)×\(h) input")
            }
        } else {
            print("halo        \(model.receptiveHalo) input pixels")
        }
        if !model.metadata.isEmpty {
            print("\nmetadata")
            print(Table.render(header: ["Key", "Value"],
                               rows: model.metadata.sorted { $0.key < $1.key }.map { [$0.key, $0.value] }))
        }
        if let graph = model.graph {
            printNodes(graph)
            return
        }
        print("\nlayers (conv_transpose2d, then activation)")
        let rows = model.layers.enumerated().map { k, layer -> [String] in
            ["\(k)", "\(layer.inChannels)", "\(layer.outChannels)", "\(layer.kernel.0)x\(layer.kernel.1)",
             "\(layer.stride.0),\(layer.stride.1)", "\(layer.padding.0),\(layer.padding.1)",
             "\(layer.outputPadding.0),\(layer.outputPadding.1)", "\(layer.dilation.0),\(layer.dilation.1)",
             "\(layer.groups)", layer.bias == nil ? "no" : "yes", describe(layer.activation),
             model.layerAlgorithms[k].rawValue]
        }
        print(Table.render(header: ["#", "In", "Out", "Kernel", "Stride", "Padding", "OutPad", "Dilation", "Groups",
                                    "Bias", "Activation", "Algorithm"], rows: rows))
    }

    /// A graph model's node table: kind, inputs, channels, size factor, and the convolutions' shapes.
    private func printNodes(_ graph: GraphModel) {
        print("\nnodes (in order; size: the value's height and width over the input's)")
        let rows = graph.nodes.enumerated().map { k, node -> [String] in
            let shape = graph.shapes[k]
            var detail = ""
            switch node.op {
            case .conv(let layer):
                detail = "\(layer.inChannels)→\(layer.outChannels) \(layer.kernel.0)x\(layer.kernel.1)"
                    + (layer.stride.0 > 1 ? " stride \(layer.stride.0)" : "") + " " + describe(layer.activation)
                    + (graph.algorithm(ofNode: k).map { ", \($0.rawValue)" } ?? "")
            case .add(let scales): detail = "scales " + scales.map { "\($0)" }.joined(separator: ", ")
            case .affine(let shift, let scale): detail = "shift \(shift.count == 1 ? "\(shift[0])" : "\(shift.count) values"), scale \(scale.count == 1 ? "\(scale[0])" : "\(scale.count) values")"
            case .leakyReLU(let slope): detail = "slope \(slope)"
            case .prelu(let slopes): detail = "\(slopes.count) slopes"
            case .pixelShuffle(let r), .pixelUnshuffle(let r), .upsampleNearest(let r): detail = "factor \(r)"
            default: break
            }
            let inputs = node.inputs.map { $0 == GraphNode.image ? "input" : "\($0)" }.joined(separator: ",")
            return ["\(k)", node.name, node.op.kind, inputs, "\(shape.channels)", "\(shape.rows)", detail]
        }
        print(Table.render(header: ["#", "Name", "Kind", "Inputs", "Channels", "Size", "Detail"], rows: rows))
    }

    private func describe(_ activation: Activation) -> String {
        switch activation {
        case .prelu(let slopes): return slopes.count == 1 ? "prelu(\(slopes[0]))" : "prelu(\(slopes.count) slopes)"
        default: return "\(activation)"
        }
    }
}
