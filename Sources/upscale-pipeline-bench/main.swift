// upscale-pipeline-bench: end to end (file → streaming upscale → file, as the CLI runs it) against
// the network alone, interleaved in one process so both see the same machine load (issue 8).
//
//   network  Model.runStack on the model-space input (the stack, tiled as the CLI runs it; decoded
//            and converted once before timing)
//   memory   Model.upscale(color:alpha:) on the decoded image: network + bicubic + colour, no I/O
//   stream   Model.upscaleFile(input → PNG/JPEG file), the CLI's path: decode, bands, writer thread,
//            PNG with the encoder `upscale` uses (EncodeOptions.upscaleOutput)
//   whole    decode → Model.upscale → encode at zlib level 6: the CLI before streaming
// Each repetition runs the four in a rotating order; prints median and minimum wall seconds, the
// ratios to the network's median, and the output sizes.
//
// With --encode, times only PNG encoding of the decoded INPUT (one thread, in memory), rotating
// three settings: zlib level 6 with libpng's adaptive filters (libpng's default), zlib level 2 with
// the up filter, and our deflate encoder (Paeth rows); ratios are to the first.
import Foundation
import UpscaleKit
import UpscaleModels

struct Options {
    var input = ""
    var model = "x2"
    var reps = 5
    var threads = Threading.coreCount
    var tile = RunOptions().tileSize
    var encodeOnly = false
}

func parse() -> Options? {
    var o = Options()
    var args = Array(CommandLine.arguments.dropFirst())
    while !args.isEmpty {
        let a = args.removeFirst()
        func value() -> String? { args.isEmpty ? nil : args.removeFirst() }
        switch a {
        case "--model": guard let v = value() else { return nil }; o.model = v
        case "--reps": guard let v = value().flatMap(Int.init), v > 0 else { return nil }; o.reps = v
        case "--threads": guard let v = value().flatMap(Int.init), v > 0 else { return nil }; o.threads = v
        case "--tile": guard let v = value().flatMap(Int.init), v > 0 else { return nil }; o.tile = v
        case "--encode": o.encodeOnly = true
        default: if a.hasPrefix("-") || !o.input.isEmpty { return nil }; o.input = a
        }
    }
    return o.input.isEmpty ? nil : o
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ x: [Double]) -> Double {
    let s = x.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

guard let options = parse() else {
    FileHandle.standardError.write(Data("usage: upscale-pipeline-bench INPUT [--model x2] [--reps 5] [--threads N] [--tile 256] [--encode]\n".utf8))
    exit(2)
}
ProcessMemory.keepFreedMemory()   // as `upscale` does
do {
    guard let bytes = BuiltinModels.bytes(named: options.model) else { throw ModelError("no built-in model \(options.model)") }
    let model = try Model(bytes: bytes, name: options.model)
    var run = RunOptions()
    run.threads = options.threads
    run.tileSize = options.tile
    let image = try ImageCodec.decode(path: options.input)
    let format = ImageFormat(path: options.input) ?? .png
    let stackInput = model.stackInput(image.color, threads: options.threads)  // what the CLI's model sees: luma for a y model on RGB
    let folder = NSTemporaryDirectory() + "upscale-pipeline-\(getpid())"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var streamEncode = EncodeOptions.upscaleOutput(pixels: model.scale * model.scale * image.width * image.height)
    streamEncode.overwrite = true
    var wholeEncode = EncodeOptions()
    wholeEncode.overwrite = true
    var sizes: [String: Int] = [:]
    func encodeStep(_ name: String, _ configure: (inout EncodeOptions) -> Void) -> (String, () throws -> Void) {
        var encode = EncodeOptions()
        configure(&encode)
        return (name, { sizes[name] = try ImageCodec.encode(image, format: .png, options: encode).count })
    }
    let encodeSteps = [
        encodeStep("zlib6", { _ in }),
        encodeStep("zlib2up", { $0.pngCompressionLevel = 2; $0.pngFilters = .up }),
        encodeStep("ours", { $0.pngEncoder = .fastDeflate }),
    ]
    let steps: [(String, () throws -> Void)] = options.encodeOnly ? encodeSteps : [
        ("network", { _ = try model.runStack(stackInput, options: run) }),
        ("memory", { _ = try model.upscale(color: image.color, alpha: image.alpha, options: run) }),
        ("stream", {
            var stream = StreamOptions()
            stream.run = run
            let out = "\(folder)/stream.\(format.rawValue)"
            _ = try model.upscaleFile(options.input, to: out, encode: streamEncode, options: stream)
            sizes["stream"] = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        }),
        ("whole", {
            let decoded = try ImageCodec.decode(path: options.input)
            let (color, alpha) = try model.upscale(color: decoded.color, alpha: decoded.alpha, options: run)
            let out = "\(folder)/whole.\(format.rawValue)"
            try ImageCodec.encode(RasterImage(color: color, alpha: alpha, bitDepth: decoded.bitDepth,
                                              metadata: decoded.metadata), to: out, options: wholeEncode)
            sizes["whole"] = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        }),
    ]
    var times = [String: [Double]]()
    _ = try seconds(steps[0].1)  // warm-up: page in the model and the allocator
    for rep in 0..<options.reps {
        for k in 0..<steps.count {
            let (name, body) = steps[(rep + k) % steps.count]
            times[name, default: []].append(try seconds(body))
        }
    }
    print("input \(options.input): \(image.width)×\(image.height), model \(options.model), threads \(options.threads), "
          + "tile \(options.tile), \(options.reps) reps")
    let (baseName, base) = (steps[0].0, median(times[steps[0].0]!))
    for (name, _) in steps {
        let t = times[name]!
        var line = name.padding(toLength: 8, withPad: " ", startingAt: 0)
        line += String(format: " median %7.3f s  min %7.3f s  ×\(baseName) %.2f", median(t), t.min()!, median(t) / base)
        if let size = sizes[name] { line += "  output \(size) bytes" }
        print(line)
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
