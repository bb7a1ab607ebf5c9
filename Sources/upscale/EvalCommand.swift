import ArgumentParser
import Foundation
import UpscaleKit
import UpscaleModels

/// `upscale eval`: the super-resolution literature's quality protocol, run through this engine.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a model's PSNR and SSIM against bicubic on a folder of high-resolution images.",
        discussion: """
        For each image: crop to a multiple of the scale, make the low-resolution input with MATLAB's \
        bicubic imresize on 8-bit RGB, upscale it with the model and with bicubic, round both to 8 \
        bits, and compare the luma (BT.601, MATLAB rgb2ycbcr) with the original, `scale` border \
        pixels shaved. This is the protocol of the super-resolution literature: bicubic on Set5 gives \
        33.66 dB (x2), 30.39 dB (x3) and 28.42 dB (x4).

        With --degrade jpeg:Q the low-resolution input is saved as a JPEG at quality Q (baseline, \
        4:2:0 chroma, libjpeg's standard tables) and decoded before both upscalers see it: how a model \
        copes with compressed photos.

        Examples:
          upscale eval --model x2 ../shared/datasets/val/Set5
          upscale eval -s 4 Set5/ --json
          upscale eval -s 2 --degrade jpeg:75 Set5/

        """)

    @OptionGroup(title: "Model") var model: ModelOptions

    @Option(name: [.customShort("j"), .long], help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(help: ArgumentHelp("Degrade the low-resolution input: jpeg:Q saves it as JPEG at quality Q (1-100).",
                               valueName: "jpeg:Q"),
            transform: { argument in
                guard let degradation = LowResolutionDegradation(argument: argument) else {
                    throw ValidationError("--degrade takes jpeg:Q with a quality Q from 1 to 100 (or none), not '\(argument)'.")
                }
                return degradation
            })
    var degrade: LowResolutionDegradation = .none

    @Flag(help: "Print the results as JSON on stdout.")
    var json = false

    @Argument(help: ArgumentHelp("Folders or files of high-resolution PNG/JPEG images.", valueName: "hr"))
    var inputs: [String]

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1.") }
    }

    func run() throws {
        let console = Console(level: .normal)
        let (source, network) = try model.load(console, threads: threads ?? Threading.coreCount)
        var options = RunOptions()
        options.threads = threads ?? Threading.coreCount
        // The inputs are found as `upscale run` finds them (folders not walked below their own
        // files); one that names nothing fails, as there, and the others are still evaluated.
        let found = InputDiscovery.discover(inputs, recursive: false)
        var failed = !found.errors.isEmpty
        found.errors.forEach { console.error($0.description) }
        let files = found.inputs.filter { !$0.isStdin }.map(\.path)
        if files.count < found.inputs.count {
            console.error("eval reads image files, not stdin (-); name the files or their folder.")
            failed = true
        }
        var rows: [(name: String, score: SuperResolutionScore)] = []
        for path in files {
            do {
                let image = try ImageCodec.decode(path: path, options: DecodeOptions())
                let hr = image.color.shape[1] == 3 ? image.color : ColorSpace.grayToRGB(image.color)
                guard hr.shape[2] >= 2 * network.scale + 1, hr.shape[3] >= 2 * network.scale + 1 else {
                    throw ImageIOError(path: path, message: "image is too small for x\(network.scale) evaluation")
                }
                let score = try SuperResolutionEval.evaluate(hr: hr, scale: network.scale, threads: options.threads,
                                                             degradation: degrade) { lr in
                    try network.upscale(color: lr, alpha: nil, options: options).color
                }
                rows.append(((path as NSString).lastPathComponent, score))
            } catch {
                failed = true
                console.error("\(error)")
            }
        }
        guard !rows.isEmpty else {
            console.error("no image could be evaluated in \(inputs.joined(separator: ", ")).")
            throw ExitCode.failure
        }
        // A PSNR is infinite for an image identical to the original (bicubic of a ×1 model's
        // clean input): the means are of the finite values, and say how many were left out.
        // No finite value: NaN, shown as n/a (null in JSON).
        func mean(_ values: [Double]) -> Double {
            let finite = values.filter(\.isFinite)
            return finite.isEmpty ? .nan : finite.reduce(0, +) / Double(finite.count)
        }
        let meanScore = SuperResolutionScore(
            psnr: mean(rows.map(\.score.psnr)), ssim: mean(rows.map(\.score.ssim)),
            bicubicPSNR: mean(rows.map(\.score.bicubicPSNR)), bicubicSSIM: mean(rows.map(\.score.bicubicSSIM)))
        let gains = rows.map { $0.score.psnr - $0.score.bicubicPSNR }.filter(\.isFinite)
        let infinite = rows.filter { !$0.score.psnr.isFinite || !$0.score.bicubicPSNR.isFinite }.count
        if json {
            try printJSON(rows: rows, mean: meanScore, modelName: source.displayName, scale: network.scale)
        } else {
            // An image's infinite PSNR shows as inf; a mean of no finite values, or a gain over an
            // infinite PSNR, as n/a.
            func cell(_ x: Double, _ format: String) -> String {
                x.isNaN ? "n/a" : x.isFinite ? String(format: format, x) : "inf"
            }
            func gain(_ g: Double?) -> String { g.map { $0.isFinite ? String(format: "%+.2f", $0) : "n/a" } ?? "n/a" }
            let format = { (s: SuperResolutionScore, g: Double?) in
                [cell(s.psnr, "%.2f"), cell(s.ssim, "%.4f"), cell(s.bicubicPSNR, "%.2f"), cell(s.bicubicSSIM, "%.4f"), gain(g)]
            }
            var header = "model \(source.displayName), x\(network.scale), Y channel, \(network.scale) px shaved"
            if case .jpeg(let quality) = degrade { header += ", LR saved as JPEG quality \(quality)" }
            print(header)
            let meanGain = gains.isEmpty ? nil : gains.reduce(0, +) / Double(gains.count)
            print(Table.render(header: ["Image", "PSNR", "SSIM", "Bicubic PSNR", "Bicubic SSIM", "Gain dB"],
                               rows: rows.map { [$0.name] + format($0.score, $0.score.psnr - $0.score.bicubicPSNR) }
                                   + [["mean"] + format(meanScore, meanGain)]))
            if infinite > 0 {
                print("inf: identical to the original; the means are of the finite values (\(infinite) of \(rows.count) "
                      + "image\(rows.count == 1 ? "" : "s") with an infinite PSNR).")
            }
        }
        if failed { throw ExitCode.failure }
    }

    private func printJSON(rows: [(name: String, score: SuperResolutionScore)], mean: SuperResolutionScore,
                           modelName: String, scale: Int) throws {
        // JSON has no infinity: the PSNR of identical images (bicubic of a scale-1 model's clean
        // input is the input itself) is written as null.
        func number(_ x: Double) -> Any { x.isFinite ? x : NSNull() }
        func entry(_ s: SuperResolutionScore) -> [String: Any] {
            ["psnr": number(s.psnr), "ssim": number(s.ssim), "bicubicPSNR": number(s.bicubicPSNR),
             "bicubicSSIM": number(s.bicubicSSIM)]
        }
        var images: [[String: Any]] = []
        for row in rows {
            var e = entry(row.score)
            e["image"] = row.name
            images.append(e)
        }
        let document: [String: Any] = ["model": modelName, "scale": scale, "degrade": degrade.description,
                                       "images": images, "mean": entry(mean)]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        print(TerminalText.jsonSafe(String(decoding: data, as: UTF8.self)))
    }
}
