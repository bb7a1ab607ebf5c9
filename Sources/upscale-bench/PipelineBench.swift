// End to end (file → streaming upscale → file, as the CLI runs it) against the network alone,
// interleaved in one process so that all see the same machine load (issue 8).
//
//   network  Model.stackOutput on the model-space input (the stack, tiled as the CLI runs it; decoded
//            and converted once before timing)
//   memory   Model.upscale(color:alpha:) on the decoded image: network + bicubic + colour, no I/O
//   stream   Model.upscaleFile(input → PNG/JPEG file), the CLI's path: decode, bands, writer thread,
//            PNG with the encoder `upscale` uses (EncodeOptions.upscaleOutput)
//   whole    decode → Model.upscale → encode at zlib level 6: the CLI before streaming
// Prints median and minimum wall seconds, the ratios to the network's median, and the output sizes.
import ArgumentParser
import Foundation
import UpscaleKit
import UpscaleModels

struct PipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Time the CLI's file-to-file path against the network alone, interleaved."
    )

    @Argument(help: "A PNG or JPEG input, e.g. a 1920×1080 photo.")
    var input: String

    @Option(help: "A built-in model.")
    var model = "x2"

    @Option(help: "Worker threads (default: all cores).")
    var threads = Threading.coreCount

    @Option(help: "Tile size.")
    var tile = RunOptions().tileSize

    @OptionGroup var rounds: InterleavedRounds

    func validate() throws {
        guard threads >= 1, tile >= 1 else { throw ValidationError("--threads and --tile must be positive integers.") }
    }

    func run() throws {
        guard let bytes = BuiltinModels.bytes(named: model) else {
            throw ValidationError("No built-in model \(model); built in: \(BuiltinModels.names.joined(separator: ", ")).")
        }
        let model = try Model(bytes: bytes, name: self.model)
        var run = RunOptions()
        run.threads = threads
        run.tileSize = tile
        let image = try ImageCodec.decode(path: input)
        let format = ImageFormat(path: input) ?? .png
        let stackInput = model.stackInput(image.color, threads: threads)  // what the CLI's model sees: luma for a y model on RGB
        let folder = NSTemporaryDirectory() + "upscale-pipeline-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var streamEncode = EncodeOptions.upscaleOutput(pixels: model.scale * model.scale * image.width * image.height)
        streamEncode.overwrite = true
        var wholeEncode = EncodeOptions()
        wholeEncode.overwrite = true
        func fileSize(_ path: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }

        var steps = InterleavedSteps()
        steps.add("network") { _ = try model.stackOutput(stackInput, options: run); return nil }
        steps.add("memory") { _ = try model.upscale(color: image.color, alpha: image.alpha, options: run); return nil }
        steps.add("stream") { [input] in
            var stream = StreamOptions()
            stream.run = run
            let out = "\(folder)/stream.\(format.rawValue)"
            _ = try model.upscaleFile(input, to: out, encode: streamEncode, options: stream)
            return fileSize(out)
        }
        steps.add("whole") { [input] in
            let decoded = try ImageCodec.decode(path: input)
            let (color, alpha) = try model.upscale(color: decoded.color, alpha: decoded.alpha, options: run)
            let out = "\(folder)/whole.\(format.rawValue)"
            try ImageCodec.encode(RasterImage(color: color, alpha: alpha, bitDepth: decoded.bitDepth,
                                              metadata: decoded.metadata), to: out, options: wholeEncode)
            return fileSize(out)
        }
        print("input \(input): \(image.width)×\(image.height), model \(self.model), threads \(threads), "
              + "tile \(tile), \(rounds.reps) reps")
        try steps.runAndReport(reps: rounds.reps)
    }
}
