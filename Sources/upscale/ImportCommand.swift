import ArgumentParser
import Foundation
import UpscaleKit

extension PTHArchitecture: ExpressibleByArgument {}

/// `upscale import`: another tool's model (ncnn `.param` + `.bin`, or a PyTorch `.pth` state dict)
/// converted into a weights file that `upscale -m` runs.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert an ncnn (.param + .bin) or PyTorch (.pth) model into an upscale weights file.",
        discussion: """
        Imports Real-ESRGAN's compact models (SRVGGNetCompact: realesr-animevideov3, realesr-general-x4v3) \
        and waifu2x's upconv_7 and vgg_7 models; see docs/models.md. The result runs with \
        `upscale IMAGE -m OUT.bin`. Errors name the file, the layer and what is supported (exit status 1).

        Examples:
          upscale import realesr-animevideov3-x4.param -o animevideov3-x4.bin
          upscale import noise1_scale2.0x_model.param -o w2x-n1.bin --license MIT
          upscale import realesr-general-x4v3.pth --arch srvgg -o general-x4v3.bin
          upscale import 4x-UltraSharp.pth -o ultrasharp-x4.bin
        """)

    @Argument(help: ArgumentHelp("The model: an ncnn .param file or a PyTorch .pth file.", valueName: "model"))
    var model: String

    @Argument(help: ArgumentHelp("The ncnn weights (default: the .param's path with .bin).", valueName: "bin"))
    var bin: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("The weights file to write.", valueName: "path"))
    var output: String

    @Option(help: ArgumentHelp("The architecture of a .pth state dict: srvgg, upconv7 or vgg7.", valueName: "arch"))
    var arch: PTHArchitecture?

    @Option(help: "The model's name in its metadata (default: the file name).")
    var name: String?

    @Option(help: "The licence of the weights, recorded in the metadata (e.g. BSD-3-Clause, MIT).")
    var license: String?

    @Flag(help: "Replace the output file if it exists.")
    var overwrite = false

    private var isPTH: Bool {
        let lower = model.lowercased()
        return lower.hasSuffix(".pth") || lower.hasSuffix(".pt") || lower.hasSuffix(".safetensors")
    }

    func validate() throws {
        if isPTH {
            guard bin == nil else { throw ValidationError("A .pth or .safetensors file is the whole model; do not pass a second file.") }
            guard arch == nil || !model.lowercased().hasSuffix(".safetensors") else {
                throw ValidationError("--arch is for .pth files of waifu2x and SRVGGNetCompact; a .safetensors state dict is recognised from its keys.")
            }
        } else {
            guard model.lowercased().hasSuffix(".param") else {
                throw ValidationError("The model must be an ncnn .param file or a PyTorch .pth file (or a .safetensors state dict), not '\(model)'.")
            }
            guard arch == nil else { throw ValidationError("--arch is for .pth files; an ncnn .param describes its network itself.") }
        }
    }

    func run() throws {
        let options = ImportOptions(name: name, license: license)
        let inputs = [model] + (isPTH ? [] : [bin ?? ModelImport.defaultBinPath(forParam: model)])
        if let input = inputs.first(where: { InputDiscovery.realPath($0).map { $0 == InputDiscovery.realPath(output) } ?? false }) {
            StandardError.write("error: \(output) is the model file \(input) itself; write the weights to another path.\n")
            throw ExitCode.failure
        }
        // The output: a regular file or nothing (a device, FIFO or link is never replaced).
        switch OutputPathState.of(output, image: false) {
        case .free: break
        case .regularFile:
            guard overwrite else {
                StandardError.write("error: \(output) already exists; pass --overwrite to replace it.\n")
                throw ExitCode.failure
            }
        case .folder:
            StandardError.write("error: \(output) is a folder; pass -o with the path of the weights file to write, for example -o \((output as NSString).appendingPathComponent("model.bin")).\n")
            throw ExitCode.failure
        case .refused(let why):
            StandardError.write("error: \(output) \(why)\n")
            throw ExitCode.failure
        }
        // import → serialise → write; each failure is one line naming the file, exit status 1.
        let imported: Model
        let bytes: [UInt8]
        do {
            if let arch {
                imported = try ModelImport.pth(path: model, architecture: arch, options: options)
            } else if isPTH {   // the architecture recognised from the state dict's keys
                switch try ModelImport.stateDictModel(path: model, options: options) {
                case .stack(let stack): imported = stack
                case .graph(let graph): imported = try Model(graph: graph)
                }
            } else {
                imported = try ModelImport.ncnn(paramPath: model, binPath: bin, options: options)
            }
            bytes = try imported.serialized()
        } catch {
            StandardError.write("error: \(error)\n")
            throw ExitCode.failure
        }
        do {
            try AtomicFile.write(bytes, to: output, overwrite: overwrite)
        } catch let error as ImageIOError where error.kind == .outputNotRegular || error.kind == .outputExists(appearedMeanwhile: false) {
            StandardError.write("error: \(output): \(error.message)\n")
            throw ExitCode.failure
        } catch {
            StandardError.write("error: \(output): cannot write the weights file (\((error as? ImageIOError)?.message ?? "\(error)")); check that its folder exists and is writable.\n")
            throw ExitCode.failure
        }
        let padding = imported.inputPadding > 0 ? ", input padding \(imported.inputPadding)" : ""
        let size = imported.graph.map { "\($0.nodes.count) nodes" } ?? "\(imported.layers.count) layers"
        print(TerminalText.escape("\(output): \(imported.metadata["architecture"] ?? "model") x\(imported.scale), "
              + "\(size), \(imported.parameterCount) parameters, residual \(imported.residual.rawValue)\(padding)"))
    }
}
