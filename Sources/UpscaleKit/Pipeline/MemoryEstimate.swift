// What upscaling one file will hold at its peak, estimated from its header (ImageInfo) before any
// image-sized allocation, so that a file over the budget is refused up front with the reason.
//
// With W×H the image as decoded, s the scale, C its colour channels, A = 1 with alpha, b = bytes
// per sample, Cm/Co the stack's input/output channels, 4 bytes per float:
//   decoder   info.wholeImageBytes: an Adam7 PNG's rows, a progressive JPEG's coefficients,
//             a rotated JPEG's samples (0 when the file streams)
//   model     the window (band reads + one read) × W × (Cm + chroma + A) floats, twice (the append
//             copies it); a band's output rows × sW floats: Co + Cm + chroma + C + A while it is computed
//             (an upper bound: the colour stage works row by row), C + A
//             for each of the two bands in the writer (queued, encoding); the tile workers' two
//             feature maps each; one decoded band (C + A floats and b bytes per pixel); with
//             alpha, the window's straight colour (C more per window pixel) and a band's filled
//             network input (C + Cm floats per pixel of its reads)
//   pipeline  a graph model's, or a stack streamed as its chain (Model.streamGraph), row buffers
//             (Pipeline/GraphModel+Memory.swift); a chain holds no tile feature maps
//   TTA       the whole image in the window (twice, as above) and its transformed copy, and at
//             s²·W·H: the sum of the passes, one pass's output and its inverse transform
//   resize    to a W'×H' target (--width, --outscale): LanczosRowWriter's window of horizontally
//             resized rows, a chunk and the output rows it completes (LanczosRowWriter.windowBytes);
//             the encoder terms below then count W'×H' instead of sW×sH
//   encoder   a WebP output: the whole picture libwebp encodes from and the encoder's own buffers
//             (WebPRowWriter.estimatedBytes);
//             a JPEG output with optimized Huffman tables or progressive: 2 bytes per output sample;
//             our PNG encoder on T threads: up to T − 1 more block scratches and coded blocks (about 16 MiB
//             each), no more than the output's whole 1 MiB blocks less one
// The sum is an upper-side estimate of the largest buffers, not of every small allocation.

/// The bytes one file's upscale is expected to hold at once, by what holds them.
public struct MemoryEstimate: Sendable, CustomStringConvertible {
    /// Whole-image buffers of the decoder (and, on the whole-image path, the decoded image).
    public var decoder = 0
    /// The model's planes and tile feature maps.
    public var model = 0
    /// The encoder's buffers (a JPEG's coefficients, the samples of a whole image).
    public var encoder = 0

    public var total: Int { decoder + model + encoder }

    public var description: String {
        "about \(MemoryBudget.format(total)): decoder \(MemoryBudget.format(decoder)), model "
            + "\(MemoryBudget.format(model)), encoder \(MemoryBudget.format(encoder))"
    }

    /// Throws `ImageIOError(kind: .overMemoryBudget)` naming `path` when over `budget`.
    public func check(budget: Int, path: String, size: (width: Int, height: Int)) throws {
        try check(budget: MemoryBudget.Limit(bytes: budget, source: .option), path: path, size: size)
    }

    /// Throws `ImageIOError(kind: .overMemoryBudget)` naming `path`, and where the budget comes
    /// from, when over `budget`.
    public func check(budget: MemoryBudget.Limit, path: String, size: (width: Int, height: Int)) throws {
        guard total > budget.bytes else { return }
        throw MemoryBudget.refusal("upscaling this \(size.width)×\(size.height) image", needs: "\(self)", budget: budget, path: path)
    }
}

extension Model {
    /// The estimate for an image `info` describes (as decoded), upscaled by the upscale loop with
    /// `run`'s tile size, threads and TTA, written as `encode` says; `output`: resized to that
    /// size (LanczosRowWriter) instead of s·W × s·H.
    public func memoryEstimate(for info: ImageInfo, run: RunOptions, format: ImageFormat,
                               encode: EncodeOptions, output: (width: Int, height: Int)? = nil) -> MemoryEstimate {
        let (w, h, s) = (info.width, info.height, scale)
        let (outW, outH) = output ?? (s * w, s * h)
        let alpha = info.channels == 2 || info.channels == 4 ? 1 : 0
        let color = info.channels - alpha
        let sampleBytes = info.bitDepth / 8
        let (cm, co) = (channels.count, layers[layers.count - 1].outChannels)
        let chroma = channels == .y && color == 3 ? 2 : 0
        let tileSize = max(1, run.tileSize)
        var estimate = MemoryEstimate()
        estimate.decoder = info.wholeImageBytes
        let outSamples = outW * outH * color
        if format == .jpeg && (encode.jpegOptimizeHuffman || encode.jpegProgressive) {
            estimate.encoder = 2 * outSamples
        }
        if format == .png && encode.pngEncoder == .fastDeflate {
            // Extra workers code whole blocks only, so an output under two blocks never uses one.
            let rowBytes = 1 + outW * (color + alpha) * (encode.pngBitDepth ?? info.bitDepth) / 8
            let wholeBlocks = outH * rowBytes / FastDeflateEncoder.blockBytes
            estimate.encoder += max(0, min(encode.threads, wholeBlocks) - 1) * DeflateBlock.Scratch.workerBytes
        }
        if format == .webp {
            estimate.encoder += WebPRowWriter.estimatedBytes(width: outW, height: outH, lossless: encode.webpLossless,
                                                             hasAlpha: alpha == 1)
        }
        let tiles = TilePlan(height: h, width: w, tileSize: tileSize, rows: rowGeometry, cols: colGeometry,
                             inputPadding: inputPadding)
        let bandRows = defaultBandRows(height: h, width: w, tileSize: tileSize, tta: run.tta)
        let bands = BandPlan(height: h, bandRows: bandRows, edgeRows: BandPlan.defaultEdgeRows(bandRows: bandRows), rows: rowGeometry,
                             taps: Resize.BicubicTaps(height: h, width: w, factor: s), inputPadding: inputPadding,
                             fillRadius: alpha == 1 ? alphaFillRadius : 0)
        let plans = (0..<bands.count).map { bands.band($0) }
        let reads = run.tta ? h : plans.map(\.reads.count).max() ?? 0
        let outRows = plans.map(\.output.count).max() ?? 0
        let window = 2 * (reads + bandRows) * w * (cm + chroma + alpha + alpha * color) * 4 + alpha * reads * w * (color + cm) * 4
        let band = outRows * s * w * 4 * ((co + cm + chroma + color + alpha) + 2 * (color + alpha))
        let workers = max(1, min(max(1, run.threads), run.tta ? tiles.count : tiles.colPlans.count))
        let rowPlans = run.tta ? tiles.rowPlans : plans.map(\.stackRows)
        // A stack streamed as its chain holds the pipeline's rows (below) instead of tile maps.
        let chain = graph == nil ? streamGraph(width: w, tta: run.tta) : nil
        let scratch = chain != nil ? 0 : workers * scratchCapacities(rowPlans: rowPlans, colPlans: tiles.colPlans).reduce(0, +) * 4
        let flips = run.tta ? h * w * cm * 4 + 3 * s * s * h * w * co * 4 : 0
        estimate.model = window + band + scratch + flips + bandRows * w * (color + alpha) * (4 + sampleBytes)
        if output != nil {
            estimate.model += LanczosRowWriter.windowBytes(sourceHeight: s * h, width: outW, height: outH,
                                                           planes: color + alpha)
        }
        if let chain {   // the weights are the stack's, counted with the image-independent part
            estimate.model += chain.pipelineBytes(height: h, width: w)
        }
        if let graph {   // its weights (as loaded and as repacked), and the graph executors' buffers (Pipeline/GraphModel+Memory.swift)
            estimate.model += graph.weightBytes + (run.tta ? graph.wholeImageBytes(height: max(h, w), width: max(h, w))
                                      : graph.pipelineBytes(height: h, width: w))
        }
        return estimate
    }
}
