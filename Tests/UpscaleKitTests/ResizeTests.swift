import Testing
@testable import UpscaleKit

// Expected values come from training/matlab_resize.py (NumPy, float64), an independent
// implementation of MATLAB's imresize, and from hand-derived kernel properties.
@Suite struct ResizeTests {
    let ramp = Tensor(shape: [1, 1, 4, 4], data: (0..<16).map(Float.init))

    /// All 64 values: `imresize(np.arange(16.0).reshape(4, 4), size=(8, 8))` from
    /// training/matlab_resize.py (float64, printed exactly; each is a multiple of 1/128).
    @Test func upscaleMatchesNumPyReference() {
        let up = Resize.bicubic(ramp, height: 8, width: 8)
        let expected = Tensor(shape: [1, 1, 8, 8], data: [
            -0.46875, -0.1953125, 0.3515625, 0.875, 1.375, 1.8984375, 2.4453125, 2.71875,
            0.625, 0.8984375, 1.4453125, 1.96875, 2.46875, 2.9921875, 3.5390625, 3.8125,
            2.8125, 3.0859375, 3.6328125, 4.15625, 4.65625, 5.1796875, 5.7265625, 6.0,
            4.90625, 5.1796875, 5.7265625, 6.25, 6.75, 7.2734375, 7.8203125, 8.09375,
            6.90625, 7.1796875, 7.7265625, 8.25, 8.75, 9.2734375, 9.8203125, 10.09375,
            9.0, 9.2734375, 9.8203125, 10.34375, 10.84375, 11.3671875, 11.9140625, 12.1875,
            11.1875, 11.4609375, 12.0078125, 12.53125, 13.03125, 13.5546875, 14.1015625, 14.375,
            12.28125, 12.5546875, 13.1015625, 13.625, 14.125, 14.6484375, 15.1953125, 15.46875,
        ])
        let close = allClose(up, expected, rtol: 1e-6, atol: 1e-6)
        #expect(close.ok, "max |Δ| \(close.maxDiff); got \(up.shape) \(up.data)")
    }

    @Test func antialiasedDownscaleMatchesNumPyReference() {
        let down = Resize.bicubic(ramp, height: 2, width: 2)
        let expected = Tensor(shape: [1, 1, 2, 2], data: [2.3046875, 4.3828125, 10.6171875, 12.6953125])
        #expect(allClose(down, expected, rtol: 1e-6, atol: 1e-6).ok, "\(down.shape) \(down.data)")
    }

    @Test func constantImageStaysConstant() {
        let flat = Tensor(shape: [1, 2, 5, 7], data: [Float](repeating: 0.25, count: 70))
        for (h, w) in [(10, 14), (2, 3), (15, 21), (5, 7)] {
            let r = Resize.bicubic(flat, height: h, width: w)
            let flatOut = Tensor(shape: [1, 2, h, w], data: [Float](repeating: 0.25, count: 2 * h * w))
            #expect(allClose(r, flatOut, rtol: 0, atol: 1e-6).ok, "\(h)×\(w): \(r.shape)")
        }
    }

    @Test func weightsFollowKeysKernel() {
        // ×2 upscale: u = x/2 + 1/4, so output 3 (1-based) samples 1.75: taps at 0..3 (1-based) with
        // distances 1.75, 0.75, −0.25, −1.25 → cubic(a=−0.5) values below.
        let c = Resize.contributions(inLength: 8, outLength: 16, scale: 2)
        let row = Array(c.weight[(2 * c.taps)..<(3 * c.taps)])
        let expected = [0, -0.0234375, 0.2265625, 0.8671875, -0.0703125, 0].map(Float.init)
        #expect(allClose(row.map(Float.init), expected, rtol: 0, atol: 1e-7).ok)
        #expect(Resize.mirror(-1, length: 4) == 0 && Resize.mirror(-2, length: 4) == 1 && Resize.mirror(4, length: 4) == 3)
    }

    @Test func quantizedPassRoundsToEightBitLevels() {
        let r = Resize.bicubic(Tensor(shape: [1, 1, 4, 4], data: (0..<16).map { Float($0) / 255 }),
                               height: 2, width: 2, quantize8Bit: true)
        for v in r.data { #expect(abs(v * 255 - (v * 255).rounded()) < 1e-4) }
    }
}

@Suite struct ColorTests {
    @Test func matlabLumaOfPrimaries() {
        let rgb = Tensor(shape: [1, 3, 1, 4], data: [1, 0, 0, 1,  0, 1, 0, 1,  0, 0, 1, 1])
        let ycc = ColorSpace.rgbToYCbCr(rgb)
        // MATLAB rgb2ycbcr([1 0 0]) = [81.481 90.203 240]/255, white = [235 128 128]/255.
        #expect(allClose(Array(ycc.data[0..<4]), [81.481, 144.553, 40.966, 235].map { Float($0 / 255) }, rtol: 1e-6).ok)
        #expect(allClose([ycc.data[4], ycc.data[8]], [Float(90.203 / 255), Float(240.0 / 255)], rtol: 1e-6).ok)
        #expect(allClose(ColorSpace.luma(rgb).data, Array(ycc.data[0..<4]), rtol: 0, atol: 0).ok)
    }

    @Test func roundTripIsIdentity() {
        let rgb = Tensor(shape: [1, 3, 2, 3], data: (0..<18).map { Float($0) / 17 })
        let back = ColorSpace.yCbCrToRGB(ColorSpace.rgbToYCbCr(rgb))
        #expect(allClose(back, rgb, rtol: 0, atol: 1e-6).ok)
    }
}
