// Nearest-neighbour upscale by an integer factor, as PyTorch's F.interpolate(x, scale_factor=s,
// mode="nearest"): output pixel (y, x) is input pixel (⌊y/s⌋, ⌊x/s⌋). The residual of models whose
// stack predicts the detail over a blocky upscale (Real-ESRGAN's SRVGGNetCompact).
//
// Each output value is a copy of one input value, so any band of rows gives the same bits as the
// whole image.

extension Resize {
    /// Rows `outRows` of the nearest upscale of an image whose rows `rowOrigin ..< rowOrigin + rows`
    /// `band` (N, C, rows, W) holds; the band must hold every row ⌊o/factor⌋ for o in `outRows`.
    /// - Returns: (N, C, outRows.count, factor·W).
    public static func nearestUpscaleRows(_ band: Tensor, rowOrigin: Int, factor: Int, outRows: Range<Int>) -> Tensor {
        precondition(band.rank == 4 && factor >= 1, "nearestUpscaleRows needs an (N, C, H, W) tensor and a factor ≥ 1")
        let (n, c, rows, w) = (band.shape[0], band.shape[1], band.shape[2], band.shape[3])
        let outW = factor * w
        precondition(outRows.isEmpty || (outRows.lowerBound / factor >= rowOrigin
                                         && (outRows.upperBound - 1) / factor < rowOrigin + rows),
                     "the band does not hold the rows the output rows copy")
        return Tensor(shape: [n, c, outRows.count, outW]) { out in
            band.withUnsafeBufferPointer { src in
                for plane in 0..<(n * c) {
                    for (k, o) in outRows.enumerated() {
                        let from = (plane * rows + o / factor - rowOrigin) * w
                        let to = (plane * outRows.count + k) * outW
                        for x in 0..<outW { out[to + x] = src[from + x / factor] }
                    }
                }
            }
        }
    }

    /// The whole nearest upscale: (N, C, H, W) → (N, C, factor·H, factor·W).
    public static func nearestUpscale(_ t: Tensor, factor: Int) -> Tensor {
        nearestUpscaleRows(t, rowOrigin: 0, factor: factor, outRows: 0..<(factor * t.shape[2]))
    }
}
