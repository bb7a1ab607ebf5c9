import ArgumentParser
import Foundation
import UpscaleKit

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
            model = try Engine.loadModel(source)
        } catch {
            let text = String(describing: error)
            let message = text.contains(file) ? text : "\(file): \(text)"
            FileHandle.standardError.write(Data("error: \(message)\n".utf8))
            throw ExitCode.failure
        }
        print("file        \(file)")
        print("scale       x\(model.scale)")
        print("channels    \(model.channels)")
        print("parameters  \(model.parameterCount)")
        print("FLOPs/pixel \(formatFlops(2 * model.macsPerOutputPixel)) per output pixel")
        print("halo        \(model.receptiveHalo) input pixels")
        if !model.metadata.isEmpty {
            print("\nmetadata")
            print(Table.render(header: ["Key", "Value"], rows: model.metadata.sorted { $0.key < $1.key }.map { [$0.key, $0.value] }))
        }
        print("\nlayers")
        print(Table.render(header: ["#", "Layer"], rows: model.layers.enumerated().map { ["\($0.offset)", "\($0.element)"] }))
    }
}
