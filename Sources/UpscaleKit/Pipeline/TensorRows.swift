// An image already in memory as a row source and a row sink of the upscale loop: the loop reads
// bands of a tensor's rows as it reads a file's, and writes its output bands into a tensor as it
// writes them into a file. `Model.upscale(color:alpha:options:)` is the loop between the two.

/// Bands of rows of a (1, C, H, W) colour tensor and its (1, 1, H, W) alpha, top to bottom.
public final class TensorRows: BandSource {
    public let width: Int, height: Int, colorChannels: Int
    public var hasAlpha: Bool { alpha != nil }
    private let color: Tensor    // (1, C, H, W)
    private let alpha: Tensor?   // (1, 1, H, W)
    private var next = 0         // the first row not read yet

    public init(color: Tensor, alpha: Tensor?) {
        precondition(color.rank == 4 && color.shape[0] == 1 && (alpha == nil || alpha?.shape == [1, 1, color.shape[2], color.shape[3]]),
                     "TensorRows needs (1, C, H, W) colour and (1, 1, H, W) alpha")
        (colorChannels, height, width) = (color.shape[1], color.shape[2], color.shape[3])
        self.color = color
        self.alpha = alpha
    }

    public func readBand(maxRows: Int) throws -> ImageBand? {
        guard next < height else { return nil }
        let rows = next..<min(height, next + max(1, maxRows))
        next = rows.upperBound
        return ImageBand(color: Model.rows(rows, of: color), alpha: alpha.map { Model.rows(rows, of: $0) })
    }

    /// Collects the bands written to it into whole (1, C, H, W) colour and (1, 1, H, W) alpha tensors.
    public final class Collector: ImageRowWriter {
        public private(set) var color: Tensor   // (1, C, H, W)
        public private(set) var alpha: Tensor?  // (1, 1, H, W)
        public private(set) var rowsWritten = 0

        public init(width: Int, height: Int, colorChannels: Int, hasAlpha: Bool) {
            color = Tensor(zeros: [1, colorChannels, height, width])
            alpha = hasAlpha ? Tensor(zeros: [1, 1, height, width]) : nil
        }

        public func write(_ band: ImageBand) throws {
            let (h, w) = (color.shape[2], color.shape[3])
            try BandCheck.validate(band, width: w, colorChannels: color.shape[1], alphaNeeded: alpha != nil,
                                   rowsLeft: h - rowsWritten, path: "<memory>")
            Collector.place(band.color, at: rowsWritten, into: &color)
            if let bandAlpha = band.alpha, alpha != nil { Collector.place(bandAlpha, at: rowsWritten, into: &alpha!) }
            rowsWritten += band.rows
        }

        public func finish() throws -> [WriterNote] { [] }
        public func abort() {}

        // src = (1, C, rows, W) / dst = rows [row, row + rows) of (1, C, H, W), per channel.
        private static func place(_ band: Tensor, at row: Int, into t: inout Tensor) {
            let (c, h, w, rows) = (t.shape[1], t.shape[2], t.shape[3], band.shape[2])
            band.withUnsafeBufferPointer { src in
                t.withUnsafeMutableBufferPointer { dst in
                    for ch in 0..<c {
                        let to = dst.baseAddress! + (ch * h + row) * w
                        to.update(from: src.baseAddress! + ch * rows * w, count: rows * w)
                    }
                }
            }
        }
    }
}
