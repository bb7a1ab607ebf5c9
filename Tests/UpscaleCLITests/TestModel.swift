import Foundation
import UpscaleKit

/// A tiny x2 model whose output is known exactly: one grouped conv_transpose2d (kernel 2, stride 2,
/// weights 1, no bias) that repeats every input pixel of R, G, B in a 2x2 block — nearest neighbour.
enum TestModel {
    static func make() throws -> Model {
        let weight = Tensor(shape: [3, 1, 2, 2], data: [Float](repeating: 1, count: 12))  // (Cin, Cout/g, kH, kW)
        let layer = ModelLayer(weight: weight, stride: (2, 2), groups: 3)
        return try Model(layers: [layer], scale: 2, channels: .rgb, residual: .none,
                         metadata: ["name": "test-nearest-x2", "set5_psnr": "12.34"])
    }

    static func write(to path: String) throws {
        try make().write(to: path)
    }

    /// An 8-bit RGB image as bytes, decoded by the codec (libpng/libjpeg underneath).
    static func decodeRGB8(_ path: String) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        let image = try ImageCodec.decode(path: path)
        let (h, w) = (image.height, image.width)
        precondition(image.channels == 3, "decodeRGB8 expects RGB")
        var pixels = [UInt8](repeating: 0, count: h * w * 3)
        // src = color (1, 3, H, W) planes / dst = pixels (H, W, 3) interleaved
        for c in 0..<3 { for i in 0..<(h * w) {
            pixels[i * 3 + c] = UInt8((image.color.data[c * h * w + i] * 255).rounded())
        } }
        return (w, h, pixels)
    }
}
