// PNG encoding alone of one decoded image (give it an upscaled output), in memory, on one thread,
// rotating four settings: zlib level 6 with libpng's adaptive filters (libpng's default), zlib
// level 2 with the up filter, and our deflate encoder (Paeth rows), from the float image and
// ("ours-packed") from rows packed to bytes beforehand, as the upscale loop hands them over: the
// encoder's own cost, without packing. Ratios are to the first step timed. `--encoders` picks some
// of them (zlib level 6 takes 20 times as long as ours).
import ArgumentParser
import UpscaleKit

struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Time PNG encoders on one decoded image: zlib level 6, zlib level 2 with up, ours."
    )

    static let encoderNames = ["zlib6", "zlib2up", "ours", "ours-packed"]
    /// Rows per band handed to the writer by "ours-packed".
    static let packedBandRows = 64

    @Argument(help: "A PNG or JPEG image to encode, e.g. an upscaled output.")
    var input: String

    @Option(help: "The encoders to time, comma-separated, of zlib6, zlib2up, ours, ours-packed.")
    var encoders = "zlib6,zlib2up,ours,ours-packed"

    @OptionGroup var rounds: InterleavedRounds

    var chosenEncoders: [String] { encoders.split(separator: ",").map(String.init) }

    func validate() throws {
        guard !chosenEncoders.isEmpty, chosenEncoders.allSatisfy(Self.encoderNames.contains) else {
            throw ValidationError("--encoders takes a comma-separated list of zlib6, zlib2up, ours and ours-packed.")
        }
    }

    func run() throws {
        let image = try ImageCodec.decode(path: input)
        var steps = InterleavedSteps()
        func add(_ name: String, _ configure: (inout EncodeOptions) -> Void) {
            guard chosenEncoders.contains(name) else { return }
            var encode = EncodeOptions()
            configure(&encode)
            steps.add(name) { [encode] in try ImageCodec.encode(image, format: .png, options: encode).count }
        }
        add("zlib6") { $0.pngEncoder = .zlib }
        add("zlib2up") { $0.pngEncoder = .zlib; $0.pngCompressionLevel = 2; $0.pngFilters = .up }
        add("ours") { $0.pngEncoder = .fastDeflate }
        if chosenEncoders.contains("ours-packed") {
            let bands = Self.packedBands(image.color, rows: Self.packedBandRows)
            var encode = EncodeOptions()
            encode.pngEncoder = .fastDeflate
            steps.add("ours-packed") { [encode] in
                var size = 0
                let writer = try ImageCodec.openSpooledWriter(
                    name: "<ours-packed>", format: .png, width: image.width, height: image.height,
                    colorChannels: image.channels, hasAlpha: false, options: encode, consume: { size += $0.count })
                for band in bands { try writer.writePacked(band.bytes, rows: band.rows, threads: 1) }
                _ = try writer.finish()
                return size
            }
        }
        print("input \(input): \(image.width)×\(image.height), \(rounds.reps) reps")
        try steps.runAndReport(reps: rounds.reps)
    }

    /// src = color (1, C, H, W) in [0, 1] / dst = bands of `rows` rows (the last one shorter), each
    /// (rows, W, C) 8-bit samples, rounded to nearest.
    static func packedBands(_ color: Tensor, rows: Int) -> [(bytes: [UInt8], rows: Int)] {
        let (channels, height, width) = (color.shape[1], color.shape[2], color.shape[3])
        return stride(from: 0, to: height, by: rows).map { top in
            let bandRows = min(rows, height - top)
            var bytes = [UInt8](repeating: 0, count: bandRows * width * channels)
            for y in 0..<bandRows {
                for x in 0..<width {
                    for c in 0..<channels {
                        let v = color.data[(c * height + top + y) * width + x]
                        bytes[(y * width + x) * channels + c] = UInt8((min(max(v, 0), 1) * 255).rounded())
                    }
                }
            }
            return (bytes, bandRows)
        }
    }
}
