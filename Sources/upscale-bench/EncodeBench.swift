// PNG encoding alone of one decoded image (give it an upscaled output), in memory, on one thread,
// rotating three settings: zlib level 6 with libpng's adaptive filters (libpng's default), zlib
// level 2 with the up filter, and our deflate encoder (Paeth rows). Ratios are to the first step
// timed. `--encoders` picks some of them (zlib level 6 takes 20 times as long as ours).
import ArgumentParser
import UpscaleKit

struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Time PNG encoders on one decoded image: zlib level 6, zlib level 2 with up, ours."
    )

    static let encoderNames = ["zlib6", "zlib2up", "ours"]

    @Argument(help: "A PNG or JPEG image to encode, e.g. an upscaled output.")
    var input: String

    @Option(help: "The encoders to time, comma-separated, of zlib6, zlib2up, ours.")
    var encoders = "zlib6,zlib2up,ours"

    @OptionGroup var rounds: InterleavedRounds

    var chosenEncoders: [String] { encoders.split(separator: ",").map(String.init) }

    func validate() throws {
        guard !chosenEncoders.isEmpty, chosenEncoders.allSatisfy(Self.encoderNames.contains) else {
            throw ValidationError("--encoders takes a comma-separated list of zlib6, zlib2up and ours.")
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
        print("input \(input): \(image.width)×\(image.height), \(rounds.reps) reps")
        try steps.runAndReport(reps: rounds.reps)
    }
}
