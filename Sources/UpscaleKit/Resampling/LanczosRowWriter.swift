// Streaming Lanczos-3 resize: a band writer that takes the model's output rows (sourceWidth ×
// sourceHeight) and hands the rows of the exact target size (width × height) to another writer.
// The formula, taps and edge rule are Lanczos.swift's; the steps are Lanczos+Reference.swift's
// (premultiply, rows, columns, unpremultiply, clamp), here in Float and row by row:
//
//   rows     each arriving input row, clamped to [0, 1] (what a writer would store) and its colour
//            premultiplied by alpha, is resized to `width` values
//            per plane and kept in a window (rows, planes, width)
//   columns  output row y is Σ_j wy_j · window[start_y(y) + j] once its last tap row has arrived;
//            the output rows a band completes go to the inner writer as one band
//   window   rows below the next output row's first tap are dropped: it holds at most the vertical
//            taps of one output row plus one chunk of 16 input rows (ratio = sourceHeight/height;
//            6·max(1, ratio) + 17 rows); a band is taken a chunk at a time
//
// Workers: in the row step each owns whole input rows of the band, in the column step whole
// output rows; every value is computed by the same sum in the same order whatever the thread
// count, the band heights, or the model's tiles: the output bits do not depend on them.

/// Resizes the rows written to it to `width`×`height` (Lanczos-3, antialiased when reducing, alpha
/// premultiplied) and writes them to `inner`, opened for that size; finishing it finishes `inner`.
public final class LanczosRowWriter: ImageRowWriter {
    public let sourceWidth: Int, sourceHeight: Int
    public let width: Int, height: Int
    public let colorChannels: Int
    public let hasAlpha: Bool
    /// Input rows received.
    public private(set) var rowsWritten = 0

    private let inner: any ImageRowWriter
    private let threads: Int
    private let tx: Lanczos.Taps, ty: Lanczos.Taps
    private let planes: Int               // colour channels + alpha
    private var window: [Float] = []      // (rows, planes, width): input rows resized horizontally
    private var windowFirst = 0           // the input row window[0] is
    private var rowsOut = 0               // output rows handed on
    private var closed = false

    /// Bytes the resize holds at most (memory estimate): the window, a chunk's horizontal pass
    /// and the output rows it completes, each `planes` × `width` floats per row.
    public static func windowBytes(sourceHeight: Int, width: Int, height: Int, planes: Int) -> Int {
        let taps = Int((6 * max(1, Double(sourceHeight) / Double(height))).rounded(.up)) + 2
        let outRows = chunkRows * height / max(1, sourceHeight) + 2
        return ((taps + chunkRows) * 2 + chunkRows + outRows) * planes * width * 4
    }

    public init(_ inner: any ImageRowWriter, sourceWidth: Int, sourceHeight: Int, width: Int, height: Int,
                colorChannels: Int, hasAlpha: Bool, threads: Int) {
        precondition(sourceWidth > 0 && sourceHeight > 0 && width > 0 && height > 0, "resize needs sizes > 0")
        self.inner = inner
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.width = width
        self.height = height
        self.colorChannels = colorChannels
        self.hasAlpha = hasAlpha
        self.threads = max(1, threads)
        planes = colorChannels + (hasAlpha ? 1 : 0)
        tx = Lanczos.Taps(inSize: sourceWidth, outSize: width)
        ty = Lanczos.Taps(inSize: sourceHeight, outSize: height)
    }

    public func write(_ band: ImageBand) throws {
        guard !closed else { throw ImageIOError(path: "<resize>", message: "resizing writer is closed") }
        try BandCheck.validate(band, width: sourceWidth, colorChannels: colorChannels, alphaNeeded: hasAlpha,
                               rowsLeft: sourceHeight - rowsWritten, path: "<resize>")
        let rows = band.rows
        guard rows > 0 else { return }
        guard !hasAlpha || band.alpha != nil else {
            throw ImageIOError(path: "<resize>", message: "band has no alpha, but the resize was opened for alpha")
        }
        // A chunk of rows at a time, so that the window never holds a whole band (the model's bands
        // are up to 2^20·s² output pixels).
        for first in stride(from: 0, to: rows, by: Self.chunkRows) {
            let chunk = first..<min(rows, first + Self.chunkRows)
            window += resizeRows(band, chunk)
            rowsWritten += chunk.count
            var outRows = 0
            while rowsOut + outRows < height, ty.start[rowsOut + outRows] + ty.count[rowsOut + outRows] <= rowsWritten {
                outRows += 1
            }
            if outRows > 0 {
                try inner.write(resizeColumns(rowsOut..<(rowsOut + outRows)))
                rowsOut += outRows
            }
            // Drop the rows no output row still needs.
            let keepFrom = rowsOut < height ? ty.start[rowsOut] : rowsWritten
            if keepFrom > windowFirst {
                window.removeFirst((keepFrom - windowFirst) * planes * width)
                windowFirst = keepFrom
            }
        }
    }

    /// Input rows resized horizontally per step.
    static let chunkRows = 16

    /// src = rows `chunk` of band (1, C, bandRows, sourceWidth) + alpha / dst = (chunk.count, planes,
    /// width), colour premultiplied.
    private func resizeRows(_ band: ImageBand, _ chunk: Range<Int>) -> [Float] {
        let (bandRows, rows, inW, outW) = (band.rows, chunk.count, sourceWidth, width)
        let (planes, channels, hasAlpha) = (self.planes, colorChannels, self.hasAlpha)
        var out = [Float](repeating: 0, count: rows * planes * outW)
        let tx = self.tx
        band.color.withUnsafeBufferPointer { color in
            withOptionalPointer(band.alpha) { alpha in
                tx.weights.withUnsafeBufferPointer { weights in
                    out.withUnsafeMutableBufferPointer { out in
                        let dst = out.baseAddress!
                        // Each item owns chunk row r: its premultiplied scratch and its output rows.
                        parallelFor(rows, threads: threads) { r in
                            let y = chunk.lowerBound + r   // the row in the band
                            var row = [Float](repeating: 0, count: inW)
                            for c in 0..<planes {
                                let src = c < channels ? color.baseAddress! + (c * bandRows + y) * inW : alpha! + y * inW
                                if c < channels && hasAlpha {
                                    let a = alpha! + y * inW
                                    for x in 0..<inW { row[x] = min(1, max(0, src[x])) * min(1, max(0, a[x])) }
                                } else {
                                    for x in 0..<inW { row[x] = min(1, max(0, src[x])) }
                                }
                                let o = dst + (r * planes + c) * outW
                                row.withUnsafeBufferPointer { row in
                                    for x in 0..<outW {
                                        let w = weights.baseAddress! + x * tx.stride
                                        let s = row.baseAddress! + tx.start[x]
                                        var sum: Float = 0
                                        for i in 0..<tx.count[x] { sum += w[i] * s[i] }
                                        o[x] = sum
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The output rows `ys` from the window: color (1, C, n, width) + alpha (1, 1, n, width).
    private func resizeColumns(_ ys: Range<Int>) -> ImageBand {
        let (n, outW, planes, channels, hasAlpha) = (ys.count, width, self.planes, colorChannels, self.hasAlpha)
        let plane = n * outW
        var color = [Float](repeating: 0, count: channels * plane)      // (C, n, width)
        var alpha = [Float](repeating: 0, count: hasAlpha ? plane : 0)  // (n, width)
        let (ty, first, rowFloats) = (self.ty, windowFirst, planes * outW)
        window.withUnsafeBufferPointer { window in
            ty.weights.withUnsafeBufferPointer { weights in
                color.withUnsafeMutableBufferPointer { color in
                    alpha.withUnsafeMutableBufferPointer { alphaOut in
                        // Each item owns output row k of every plane.
                        parallelFor(n, threads: threads) { k in
                            let y = ys.lowerBound + k
                            var sum = [Float](repeating: 0, count: rowFloats)  // (planes, width)
                            sum.withUnsafeMutableBufferPointer { sum in
                                for j in 0..<ty.count[y] {
                                    let w = weights[y * ty.stride + j]
                                    let src = window.baseAddress! + (ty.start[y] + j - first) * rowFloats
                                    for i in 0..<rowFloats { sum[i] += w * src[i] }
                                }
                                for x in 0..<outW {
                                    let a = hasAlpha ? sum[channels * outW + x] : 1
                                    for c in 0..<channels {
                                        let v = sum[c * outW + x]
                                        let value = hasAlpha ? (a > 0 ? v / a : 0) : v
                                        color[(c * n + k) * outW + x] = min(1, max(0, value))
                                    }
                                    if hasAlpha { alphaOut[k * outW + x] = min(1, max(0, a)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        return ImageBand(color: Tensor(shape: [1, channels, n, outW], data: color),
                         alpha: hasAlpha ? Tensor(shape: [1, 1, n, outW], data: alpha) : nil)
    }

    public func finish() throws -> [WriterNote] {
        guard !closed else { throw ImageIOError(path: "<resize>", message: "resizing writer is closed") }
        closed = true
        guard rowsWritten == sourceHeight, rowsOut == height else {
            inner.abort()
            throw ImageIOError(path: "<resize>", message: "only \(rowsWritten) of \(sourceHeight) rows were written")
        }
        window = []
        return try inner.finish()
    }

    public func abort() {
        closed = true
        window = []
        inner.abort()
    }
}
