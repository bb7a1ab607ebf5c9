// The streaming path against the whole-image path: `Model.upscale(from:to:options:)` must give the
// floats of `Model.upscale(color:alpha:options:)` bit for bit, for every shipped model, y and rgb
// models, gray and RGB, with and without alpha, and band heights and tile sizes that do not divide
// the image. The oracle is the whole-image path, itself tested against the reference kernel and
// exact values (RunnerTests, TilingTests).
import Foundation
import Testing
@testable import UpscaleKit
import UpscaleModels

/// Collects written bands in memory (the streaming path's output, as floats).
final class CollectingWriter: ImageRowWriter {
    private(set) var rowsWritten = 0
    private(set) var color: [[Float]] = []   // per band: (C, rows, W)
    private(set) var alpha: [[Float]] = []
    var failAtBand: Int? = nil
    private(set) var aborted = false
    private(set) var bandRows: [Int] = []

    func write(_ band: ImageBand) throws {
        if let failAtBand, bandRows.count == failAtBand { throw ImageIOError(path: "collector", message: "disk full (test)") }
        color.append(band.color.data)
        alpha.append(band.alpha?.data ?? [])
        bandRows.append(band.rows)
        rowsWritten += band.rows
    }
    func finish() throws -> [WriterNote] { [] }
    func abort() { aborted = true }

    /// The bands stacked into one (1, C, H, W) tensor.
    func image(channels: Int, width: Int) -> Tensor {
        var data: [Float] = []
        for c in 0..<channels {
            for (k, band) in color.enumerated() {
                let plane = bandRows[k] * width
                data += band[(c * plane)..<((c + 1) * plane)]
            }
        }
        return Tensor(shape: [1, channels, rowsWritten, width], data: data)
    }

    var alphaImage: [Float] { alpha.flatMap { $0 } }
}

/// One streaming-versus-whole case.
struct StreamCase: CustomStringConvertible, Sendable {
    var model: String        // "x2", "x3", "x4" (shipped) or "rgb-bicubic", "rgb-none", "y-random"
    var channels: Int        // 1 gray, 3 RGB
    var alpha: Bool
    var height: Int, width: Int
    var bandRows: Int, tileSize: Int, threads: Int
    var edgeRows = 0          // the first and last band's rows (BandPlan); 0: all of bandRows
    var description: String {
        "\(model) C=\(channels)\(alpha ? "+A" : "") \(height)×\(width) band \(bandRows) edge \(edgeRows) tile \(tileSize) threads \(threads)"
    }
}

func streamTestModel(_ name: String) throws -> Model {
    if let bytes = BuiltinModels.bytes(named: name) { return try Model(bytes: bytes, name: name) }
    var rng = SeededRandom(seed: 77)
    switch name {
    case "rgb-bicubic":
        return try Model(layers: randomLayers(&rng, channels: 3, scale: 2, depth: 3), scale: 2, channels: .rgb,
                         residual: .bicubic, metadata: ["name": name])
    case "padded-nearest":
        return try paddedModel(residual: .nearest)   // input padding 3 (ModelFormatAdditionsTests)
    case "rgb-none":
        return try Model(layers: randomLayers(&rng, channels: 3, scale: 3, depth: 2), scale: 3, channels: .rgb,
                         residual: .none, metadata: ["name": name])
    default:
        return try Model(layers: randomLayers(&rng, channels: 1, scale: 4, depth: 3), scale: 4, channels: .y,
                         residual: .bicubic, metadata: ["name": name])
    }
}

let streamCases: [StreamCase] = [
    StreamCase(model: "x2", channels: 3, alpha: true, height: 23, width: 19, bandRows: 5, tileSize: 16, threads: 2),
    StreamCase(model: "x2", channels: 1, alpha: false, height: 17, width: 11, bandRows: 3, tileSize: 7, threads: 1),
    StreamCase(model: "x2", channels: 3, alpha: false, height: 9, width: 40, bandRows: 1, tileSize: 16, threads: 2),
    StreamCase(model: "x2", channels: 3, alpha: false, height: 6, width: 5, bandRows: 50, tileSize: 256, threads: 2),
    StreamCase(model: "x3", channels: 3, alpha: true, height: 14, width: 13, bandRows: 4, tileSize: 9, threads: 2),
    StreamCase(model: "x4", channels: 1, alpha: true, height: 11, width: 10, bandRows: 6, tileSize: 8, threads: 2),
    StreamCase(model: "rgb-bicubic", channels: 3, alpha: true, height: 13, width: 12, bandRows: 4, tileSize: 5, threads: 2),
    StreamCase(model: "rgb-bicubic", channels: 1, alpha: false, height: 10, width: 7, bandRows: 3, tileSize: 4, threads: 1),
    StreamCase(model: "rgb-none", channels: 3, alpha: false, height: 11, width: 9, bandRows: 2, tileSize: 6, threads: 2),
    StreamCase(model: "y-random", channels: 3, alpha: true, height: 9, width: 8, bandRows: 4, tileSize: 3, threads: 2),
    StreamCase(model: "padded-nearest", channels: 3, alpha: true, height: 10, width: 7, bandRows: 1, tileSize: 2, threads: 2),
    StreamCase(model: "padded-nearest", channels: 1, alpha: false, height: 9, width: 11, bandRows: 4, tileSize: 5, threads: 1),
    // Short first and last bands (the CLI's default plan), the middle evened out.
    StreamCase(model: "x2", channels: 3, alpha: false, height: 23, width: 19, bandRows: 7, tileSize: 16, threads: 2, edgeRows: 2),
    StreamCase(model: "x4", channels: 3, alpha: true, height: 19, width: 10, bandRows: 6, tileSize: 8, threads: 2, edgeRows: 1),
    StreamCase(model: "padded-nearest", channels: 3, alpha: false, height: 16, width: 7, bandRows: 5, tileSize: 4, threads: 1, edgeRows: 3),
]

@Test(arguments: streamCases)
func streamingIsBitIdenticalToTheWholeImage(_ c: StreamCase) throws {
    let model = try streamTestModel(c.model)
    var rng = SeededRandom(seed: UInt64(c.height * 1000 + c.width))
    let color = Tensor(shape: [1, c.channels, c.height, c.width], data: rng.floats(c.channels * c.height * c.width, 0...1))
    let alpha = c.alpha ? Tensor(shape: [1, 1, c.height, c.width], data: rng.floats(c.height * c.width, 0...1)) : nil
    var run = RunOptions()
    run.tileSize = c.tileSize
    run.threads = c.threads
    let whole = try model.upscale(color: color, alpha: alpha, options: run)

    var options = StreamOptions()
    options.run.tileSize = c.tileSize
    options.run.threads = c.threads
    options.bandRows = c.bandRows
    options.edgeRows = c.edgeRows
    var rowsSeen: [Int] = []
    options.rowsProgress = { done, total in
        rowsSeen.append(done)
        #expect(total == model.scale * c.height)
    }
    let writer = CollectingWriter()
    try model.upscale(from: TensorRows(color: color, alpha: alpha), to: writer,
                      options: options)
    let streamed = writer.image(channels: c.channels, width: model.scale * c.width)
    #expect(streamed.shape == whole.color.shape, "\(c)")
    let same = streamed.data.elementsEqual(whole.color.data) { $0.bitPattern == $1.bitPattern }
    #expect(same, "\(c): streamed colour differs, max |Δ| = \(allClose(streamed.data, whole.color.data).maxDiff)")
    if let wholeAlpha = whole.alpha {
        #expect(writer.alphaImage.elementsEqual(wholeAlpha.data) { $0.bitPattern == $1.bitPattern }, "\(c): alpha differs")
    } else {
        #expect(writer.alphaImage.isEmpty)
    }
    #expect(rowsSeen == rowsSeen.sorted() && rowsSeen.last == model.scale * c.height, "\(c): rows progress \(rowsSeen)")
}

@Test func bandPlanPartitionsTheOutputAndItsReadsOnlyMoveDown() throws {
    for name in ["x2", "x3", "x4", "rgb-none", "y-random", "padded-nearest"] {
        let model = try streamTestModel(name)
        for (height, bandRows, edgeRows) in [(1, 1, 0), (7, 3, 0), (23, 5, 0), (40, 40, 0), (41, 8, 0), (41, 8, 2), (16, 8, 3), (23, 5, 1)] {
            let taps = Resize.BicubicTaps(height: height, width: 4, factor: model.scale)
            let plan = BandPlan(height: height, bandRows: bandRows, edgeRows: edgeRows, rows: model.rowGeometry, taps: taps,
                                inputPadding: model.inputPadding)
            var nextOutput = 0
            var lastReads = 0..<0
            for b in 0..<plan.count {
                let band = plan.band(b)
                let label = "\(name) H=\(height) band \(bandRows) edge \(edgeRows) #\(b): \(band)"
                #expect(band.output.lowerBound == nextOutput, "\(label)")
                nextOutput = band.output.upperBound
                #expect(band.reads.lowerBound >= 0 && band.reads.upperBound <= height, "\(label)")
                let stackImageRows = TilePlan.imageRange(band.stackRows[0], inputPadding: model.inputPadding, length: height)
                #expect(band.reads.lowerBound <= stackImageRows.lowerBound
                        && band.reads.upperBound >= stackImageRows.upperBound, "\(label)")
                let tapped = taps.inputRows(band.output)
                #expect(band.reads.lowerBound <= tapped.lowerBound && band.reads.upperBound >= tapped.upperBound, "\(label)")
                if b > 0 {
                    #expect(band.reads.lowerBound >= lastReads.lowerBound && band.reads.upperBound >= lastReads.upperBound,
                            "\(label) after \(lastReads)")
                }
                lastReads = band.reads
            }
            #expect(nextOutput == model.scale * height, "\(name) H=\(height): bands end at \(nextOutput)")
        }
    }
}

@Test(arguments: [(1080, 216, 54), (41, 8, 2), (16, 8, 3), (23, 5, 1), (15, 8, 2), (20, 8, 8), (20, 8, 0)])
func edgeBandsAreShortAndTheOthersAtMostBandRows(height: Int, bandRows: Int, edgeRows: Int) throws {
    let model = try streamTestModel("x2")
    let plan = BandPlan(height: height, bandRows: bandRows, edgeRows: edgeRows, rows: model.rowGeometry,
                        taps: Resize.BicubicTaps(height: height, width: 4, factor: 2))
    let sizes = (0..<plan.count).map { plan.band($0).input.count }
    let label = "H=\(height) band \(bandRows) edge \(edgeRows): \(sizes)"
    #expect((0..<plan.count).map { plan.band($0).input.lowerBound } == [0] + sizes.dropLast().reduce(into: [Int]()) { $0.append(($0.last ?? 0) + $1) },
            "\(label): bands follow each other")
    #expect(sizes.reduce(0, +) == height, "\(label)")
    if edgeRows > 0 && edgeRows < bandRows && height >= 2 * bandRows {
        #expect(sizes.first == edgeRows && sizes.last == edgeRows, "\(label)")
        let middle = sizes.dropFirst().dropLast()
        #expect(middle.allSatisfy { $0 <= bandRows } && middle.max()! - middle.min()! <= 1, "\(label): the middle evened out")
        #expect(middle.count == (height - 2 * edgeRows + bandRows - 1) / bandRows, "\(label): as few middle bands as fit")
    } else {
        #expect(sizes == Array(repeating: bandRows, count: height / bandRows) + (height % bandRows == 0 ? [] : [height % bandRows]),
                "\(label): every band of bandRows")
    }
}

/// A band source that records the rows each read asked for.
private final class RecordingSource: BandSource {
    let rows: TensorRows
    private(set) var asked: [Int] = []
    init(_ rows: TensorRows) { self.rows = rows }
    var width: Int { rows.width }
    var height: Int { rows.height }
    var colorChannels: Int { rows.colorChannels }
    var hasAlpha: Bool { rows.hasAlpha }
    func readBand(maxRows: Int) throws -> ImageBand? {
        asked.append(maxRows)
        return try rows.readBand(maxRows: maxRows)
    }
}

/// The first band's network starts once its own rows are read: the loop asks the source for the
/// rows the band reads, not for whole bands until it has them (which read most of the second band too).
@Test func eachBandReadsOnlyTheRowsItNeeds() throws {
    let model = try streamTestModel("x2")
    let (height, width, bandRows) = (40, 9, 10)
    var rng = SeededRandom(seed: 2812)
    let color = Tensor(shape: [1, 3, height, width], data: rng.floats(3 * height * width, 0...1))
    var options = StreamOptions()
    options.bandRows = bandRows
    let source = RecordingSource(TensorRows(color: color, alpha: nil))
    try model.upscale(from: source, to: CollectingWriter(), options: options)
    let plan = BandPlan(height: height, bandRows: bandRows, rows: model.rowGeometry,
                        taps: Resize.BicubicTaps(height: height, width: width, factor: model.scale))
    var end = 0
    var expected: [Int] = []
    for b in 0..<plan.count where plan.band(b).reads.upperBound > end {
        expected.append(plan.band(b).reads.upperBound - end)
        end = plan.band(b).reads.upperBound
    }
    #expect(plan.band(0).reads.upperBound > bandRows, "the case needs a first band that reads past its own rows")
    #expect(Array(source.asked.prefix(expected.count)) == expected, "asked \(source.asked), the bands read \(expected)")
}

@Test func aWriterFailureStopsTheStreamWithItsError() throws {
    let model = try streamTestModel("x2")
    let color = Tensor(shape: [1, 3, 20, 6], data: SeededRandom(seed: 5).floatsCopy(360))
    let writer = CollectingWriter()
    writer.failAtBand = 2
    var options = StreamOptions()
    options.bandRows = 3
    #expect(throws: ImageIOError.self) {
        try model.upscale(from: TensorRows(color: color, alpha: nil), to: writer,
                          options: options)
    }
    #expect(writer.rowsWritten == 2 * 2 * 3)
}

/// TTA runs in the same loop: it reads the whole image, averages the 8 flipped stacks, and each
/// band takes its rows of that average. The result is the composition built here from whole-image
/// pieces: the raw stack's TTA average (`stackOutput`), plus the whole-image bicubic residual,
/// clamped; alpha bicubic, clamped. Bit for bit, for any band height and tile size.
@Test(arguments: [(1, 2), (3, 5), (100, 256)])
func ttaRunsInTheLoop(bandRows: Int, tileSize: Int) throws {
    let model = try streamTestModel("rgb-bicubic")
    var rng = SeededRandom(seed: 31)
    let (h, w) = (7, 9)
    let color = Tensor(shape: [1, 3, h, w], data: rng.floats(3 * h * w, 0...1))
    let alpha = Tensor(shape: [1, 1, h, w], data: rng.floats(h * w, 0...1))
    var options = StreamOptions()
    options.run.tta = true
    options.run.tileSize = tileSize
    options.run.threads = 2
    options.bandRows = bandRows
    let output = TensorRows.Collector(width: 2 * w, height: 2 * h, colorChannels: 3, hasAlpha: true)
    try model.upscale(from: TensorRows(color: color, alpha: alpha), to: output, options: options)

    // With alpha (Resampling/Alpha.swift): the stack reads the filled straight colour, the residual
    // is of the premultiplied colour, and the sum premultiplied by the output alpha is divided by it.
    let filled = Alpha.filled(color, alpha: alpha, origin: 0, rows: 0..<h, imageHeight: h,
                              radius: Alpha.fillRadius(halo: model.receptiveHalo))
    let averaged = try model.stackOutput(filled, options: options.run)
    let residual = Resize.bicubicUpscale(Alpha.premultiplied(color, by: alpha), factor: 2, threads: 1)
    let upAlpha = Resize.bicubicUpscale(alpha, factor: 2, threads: 1).data.map { min(max($0, 0), 1) }
    let plane = upAlpha.count
    let expected = (0..<(3 * plane)).map { i -> Float in
        let a = upAlpha[i % plane]
        let premultiplied = min(max(averaged.data[i] * a + residual.data[i], 0), 1)
        return a > 0 ? min(premultiplied / a, 1) : 0
    }
    // The colour stage's bicubic is in Float (Resize.bicubicRowFloat): within Float rounding of the Double one.
    let colour = allClose(output.color.data, expected, rtol: 0, atol: 2e-6)
    #expect(colour.ok, "bands of \(bandRows), tiles of \(tileSize): max |Δ| \(colour.maxDiff)")
    let alphaClose = allClose(output.alpha?.data ?? [], upAlpha, rtol: 0, atol: 2e-6)
    #expect(alphaClose.ok, "alpha: max |Δ| \(alphaClose.maxDiff)")
    options.run.tta = false
    #expect(try model.upscale(color: color, alpha: alpha, options: options.run).color != output.color,
            "TTA made no difference: it was not applied")
}

extension SeededRandom {
    func floatsCopy(_ n: Int) -> [Float] {
        var copy = self
        return copy.floats(n, 0...1)
    }
}

/// The default bands: a tiled stack's by input pixels (its tiles' row blocks), a graph-streamed
/// run's by output pixels, scale² per input pixel, since the pipeline keeps its own rows from band
/// to band and a band only stages the output (RRDBNet ×4 at 1920 px held 768-row output bands).
@Test func graphRunsBudgetTheirBandsByOutputPixels() throws {
    let graph = try Model(graph: everyOpGraph(seed: 3))   // ×2
    let stack = try streamTestModel("x2")
    #expect(graph.scale == 2 && stack.graph == nil)
    // 1080 rows: the stack's budget (2^20 / 1920 = 546 rows, capped at the tile's 256) gives 5 bands
    // of 216; the graph's (2^20 / (4 · 1920) = 136 rows) 8 bands of 135.
    #expect(stack.defaultBandRows(height: 1080, width: 1920, tileSize: 256, tta: false) == 216)
    #expect(graph.defaultBandRows(height: 1080, width: 1920, tileSize: 256, tta: false) == 135)
    #expect(graph.defaultBandRows(height: 1080, width: 1920, tileSize: 256, tta: true) == 135)
    // Narrow images: the tile's cap, and never under 8 rows.
    #expect(graph.defaultBandRows(height: 1080, width: 100, tileSize: 256, tta: false) == 216)
    #expect(graph.defaultBandRows(height: 1080, width: 100_000, tileSize: 256, tta: false) == 8)
}
