import Testing
@testable import UpscaleKit

// Expected values come from training/matlab_resize.py (NumPy, float64), an independent
// implementation of MATLAB's imresize, and from hand-derived kernel properties.
@Suite struct ResizeTests {
    let ramp = Tensor(shape: [1, 1, 4, 4], data: (0..<16).map(Float.init))

    @Test func upscaleMatchesNumPyReference() {
        let up = Resize.bicubic(ramp, height: 8, width: 8)
        let expectedRow0: [Float] = [-0.46875, -0.1953125, 0.3515625, 0.875, 1.375, 1.8984375, 2.4453125, 2.71875]
        #expect(allClose(Array(up.data[0..<8]), expectedRow0, rtol: 1e-6, atol: 1e-6).ok)
    }

    @Test func antialiasedDownscaleMatchesNumPyReference() {
        let down = Resize.bicubic(ramp, height: 2, width: 2)
        #expect(allClose(down.data, [2.3046875, 4.3828125, 10.6171875, 12.6953125], rtol: 1e-6, atol: 1e-6).ok)
    }

    @Test func constantImageStaysConstant() {
        let flat = Tensor(shape: [1, 2, 5, 7], data: [Float](repeating: 0.25, count: 70))
        for (h, w) in [(10, 14), (2, 3), (15, 21), (5, 7)] {
            let r = Resize.bicubic(flat, height: h, width: w)
            #expect(r.shape == [1, 2, h, w])
            #expect(allClose(r.data, [Float](repeating: 0.25, count: 2 * h * w), rtol: 0, atol: 1e-6).ok)
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
        #expect(allClose(back.data, rgb.data, rtol: 0, atol: 1e-6).ok)
    }
}
