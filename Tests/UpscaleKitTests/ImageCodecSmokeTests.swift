import Testing
@testable import UpscaleKit

@Test func pngAndJPEGRoundTripSmoke() throws {
    let (h, w) = (5, 7)
    var values = [Float](repeating: 0, count: 3 * h * w)  // (3, H, W)
    for i in values.indices { values[i] = Float(i % 256) / 255 }
    let image = RasterImage(color: Tensor(shape: [1, 3, h, w], data: values), alpha: nil)
    let png = try ImageCodec.encode(image, format: .png)
    let back = try ImageCodec.decode(bytes: png, name: "smoke.png")
    #expect(back.color == image.color)
    let jpeg = try ImageCodec.encode(image, format: .jpeg)
    let backJPEG = try ImageCodec.decode(bytes: jpeg, name: "smoke.jpg")
    #expect(backJPEG.color.shape == [1, 3, h, w])
}
