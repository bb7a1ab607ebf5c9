// The literature's super-resolution protocol for one HR image at scale s:
//   HR  cropped to a multiple of s (top-left kept)
//   LR  = imresize(HR, 1/s, 'bicubic') on 8-bit RGB (rounded per pass, as MATLAB does for uint8);
//         with `--degrade jpeg:Q`, then saved as a baseline JPEG at quality Q (libjpeg's standard
//         tables, 4:2:0 chroma, as cameras and Pillow save) and decoded: what both upscalers see
//   SR  = the upscaler applied to LR, rounded to 8 bits — what the tool writes to disk
//   BIC = imresize(LR, s, 'bicubic'), rounded to 8 bits — the baseline
//   scores: PSNR and SSIM of luma against HR with s border pixels shaved (Quality.swift).


/// PSNR/SSIM of the upscaler and of bicubic on one image.
public struct SuperResolutionScore: Sendable, Equatable {
    public var psnr: Double, ssim: Double
    public var bicubicPSNR: Double, bicubicSSIM: Double

    public init(psnr: Double, ssim: Double, bicubicPSNR: Double, bicubicSSIM: Double) {
        (self.psnr, self.ssim, self.bicubicPSNR, self.bicubicSSIM) = (psnr, ssim, bicubicPSNR, bicubicSSIM)
    }
}

/// What happens to the low-resolution input after the bicubic downscale, before it is upscaled.
public enum LowResolutionDegradation: Sendable, Equatable, CustomStringConvertible {
    /// The clean 8-bit downscale: the literature's protocol.
    case none
    /// Saved as JPEG at this quality (1...100) and decoded.
    case jpeg(quality: Int)

    /// Parses `jpeg:Q` (Q in 1...100) or `none`; nil for anything else.
    public init?(argument: String) {
        if argument == "none" { self = .none; return }
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "jpeg", let q = Int(parts[1]), (1...100).contains(q) else { return nil }
        self = .jpeg(quality: q)
    }

    public var description: String {
        switch self {
        case .none: return "none"
        case .jpeg(let quality): return "jpeg:\(quality)"
        }
    }
}

public enum SuperResolutionEval {
    /// Rounds every value of `t` to the nearest of 256 levels in [0, 1] (clamping first).
    public static func quantize8Bit(_ t: Tensor) -> Tensor {
        Tensor(shape: t.shape, data: t.data.map { (min(max($0, 0), 1) * 255).rounded(.toNearestOrAwayFromZero) / 255 })
    }

    /// HR (1, C, H, W), cropped to a multiple of `scale`, and its 8-bit MATLAB-bicubic LR (1, C, H/s, W/s).
    public static func degrade(_ hr: Tensor, scale: Int, threads: Int = Threading.coreCount) -> (hr: Tensor, lr: Tensor) {
        let (c, h, w) = (hr.shape[1], hr.shape[2] / scale * scale, hr.shape[3] / scale * scale)
        var cropped = [Float]()
        cropped.reserveCapacity(c * h * w)
        for ch in 0..<c {
            for y in 0..<h {
                let row = (ch * hr.shape[2] + y) * hr.shape[3]
                cropped.append(contentsOf: hr.data[row..<(row + w)])
            }
        }
        let hrCropped = quantize8Bit(Tensor(shape: [1, c, h, w], data: cropped))
        let lr = Resize.bicubic(hrCropped, height: h / scale, width: w / scale, quantize8Bit: true, threads: threads)
        return (hrCropped, lr)
    }

    /// `lr` (1, C, h, w) with 8-bit values saved as a JPEG at `quality` (baseline, 4:2:0, standard
    /// tables) and decoded back, in memory.
    /// - Throws: `ImageIOError` when libjpeg fails.
    public static func jpegRoundTrip(_ lr: Tensor, quality: Int) throws -> Tensor {
        var options = EncodeOptions()
        options.jpegQuality = quality
        options.jpegChroma = .yuv420
        options.jpegOptimizeHuffman = false
        let bytes = try ImageCodec.encode(RasterImage(color: lr, alpha: nil), format: .jpeg, options: options)
        return try ImageCodec.decode(bytes: bytes, name: "<low-resolution JPEG at quality \(quality)>").color
    }

    /// Scores `upscale` (LR (1, C, h, w) → (1, C, s·h, s·w)) against bicubic on one HR image, the
    /// degradation, bicubic baseline and luma on up to `threads` workers (`upscale` picks its own).
    /// `degradation` happens to the LR input that both upscalers get.
    public static func evaluate(hr: Tensor, scale: Int, threads: Int = Threading.coreCount,
                                degradation: LowResolutionDegradation = .none,
                                upscale: (Tensor) throws -> Tensor) throws -> SuperResolutionScore {
        var (hrCropped, lr) = degrade(hr, scale: scale, threads: threads)
        if case .jpeg(let quality) = degradation { lr = try jpegRoundTrip(lr, quality: quality) }
        let sr = quantize8Bit(try upscale(lr))
        let bicubic = Resize.bicubic(lr, height: hrCropped.shape[2], width: hrCropped.shape[3], quantize8Bit: true,
                                     threads: threads)
        let truth = Quality.lumaPlane(hrCropped, shave: scale, threads: threads)
        let srY = Quality.lumaPlane(sr, shave: scale, threads: threads).plane
        let bicY = Quality.lumaPlane(bicubic, shave: scale, threads: threads).plane
        return SuperResolutionScore(
            psnr: Quality.psnr(srY, truth.plane),
            ssim: Quality.ssim(srY, truth.plane, height: truth.height, width: truth.width),
            bicubicPSNR: Quality.psnr(bicY, truth.plane),
            bicubicSSIM: Quality.ssim(bicY, truth.plane, height: truth.height, width: truth.width))
    }
}
