// The streaming path file to file (`Model.upscaleFile`): the bytes written equal those of decode →
// upscale → encode for PNG (RGBA, 16-bit, Adam7 input), baseline and progressive JPEG and JPEG
// with an EXIF rotation (which falls back to a whole decode); and a file cut in the middle fails
// with no output and no temporary file left.
import CPNG
import Foundation
import Testing
@testable import UpscaleKit
import UpscaleModels

private func wholeImageBytes(_ model: Model, input: String, format: ImageFormat, encode: EncodeOptions) throws -> [UInt8] {
    let image = try ImageCodec.decode(path: input)
    var run = RunOptions()
    run.tileSize = 7
    let (color, alpha) = try model.upscale(color: image.color, alpha: image.alpha, options: run)
    return try ImageCodec.encode(RasterImage(color: color, alpha: alpha, bitDepth: image.bitDepth, metadata: image.metadata),
                                 format: format, options: encode)
}

private func streamedBytes(_ model: Model, input: String, output: String, encode: EncodeOptions) throws -> [UInt8] {
    var options = StreamOptions()
    options.bandRows = 4
    options.run.tileSize = 9
    _ = try model.upscaleFile(input, to: output, encode: encode, options: options)
    return readBytes(output)
}

@Test func streamedFilesEqualTheWholeImagePath() throws {
    let dir = ScratchDir("stream")
    defer { dir.remove() }
    let model = try Model(bytes: BuiltinModels.bytes(named: "x2")!, name: "x2")
    var png = EncodeOptions()
    png.pngCompressionLevel = 1
    let rgba = RasterImage(color: noisyImage(channels: 3, height: 21, width: 13, seed: 11),
                           alpha: noisyImage(channels: 1, height: 21, width: 13, seed: 12))
    try ImageCodec.encode(rgba, to: dir.file("rgba.png"))
    let gray16 = RasterImage(color: noisyImage(channels: 1, height: 10, width: 9, seed: 13), alpha: nil, bitDepth: 16)
    try ImageCodec.encode(gray16, to: dir.file("gray16.png"))
    var adam7 = PNGFixture(width: 11, height: 13, bitDepth: 8, colorType: PNG_COLOR_TYPE_RGB)
    adam7.interlaced = true
    var random = SeededSamples(seed: 14)
    adam7.rows = PNGFixture.pack((0..<(11 * 13 * 3)).map { _ in random.next(below: 256) }, width: 11, height: 13,
                                 channels: 3, bitDepth: 8)
    try adam7.write(to: dir.file("adam7.png"))
    for name in ["rgba.png", "gray16.png", "adam7.png"] {
        let expected = try wholeImageBytes(model, input: dir.file(name), format: .png, encode: png)
        let got = try streamedBytes(model, input: dir.file(name), output: dir.file("out-\(name)"), encode: png)
        #expect(got == expected, "\(name): streamed PNG differs from the whole-image PNG")
    }

    var jpeg = EncodeOptions()
    jpeg.format = .jpeg
    let photo = RasterImage(color: noisyImage(channels: 3, height: 19, width: 24, seed: 15), alpha: nil)
    for (name, progressive, orientation) in [("base.jpg", false, 1), ("prog.jpg", true, 1), ("rot6.jpg", false, 6),
                                             ("flip4.jpg", true, 4)] {
        var options = EncodeOptions()
        options.jpegProgressive = progressive
        var bytes = try ImageCodec.encode(photo, format: .jpeg, options: options)
        if orientation != 1 {
            bytes = JPEGBytes.inserting(JPEGBytes.exifSegment(orientation: orientation, bigEndian: false), into: bytes)
        }
        writeBytes(bytes, to: dir.file(name))
        let expected = try wholeImageBytes(model, input: dir.file(name), format: .jpeg, encode: jpeg)
        let got = try streamedBytes(model, input: dir.file(name), output: dir.file("out-\(name)"), encode: jpeg)
        #expect(got == expected, "\(name): streamed JPEG differs from the whole-image JPEG")
    }
}

@Test func aFileCutMidStreamFailsAndLeavesNoOutput() throws {
    let dir = ScratchDir("stream-cut")
    defer { dir.remove() }
    let model = try Model(bytes: BuiltinModels.bytes(named: "x2")!, name: "x2")
    let tall = RasterImage(color: noisyImage(channels: 3, height: 400, width: 16, seed: 21), alpha: nil)
    for format in [ImageFormat.png, .jpeg] {
        let full = try ImageCodec.encode(tall, format: format)
        let input = dir.file("cut.\(format.rawValue)")
        writeBytes(Array(full[0..<(full.count * 2 / 3)]), to: input)
        let output = dir.file("out.\(format.rawValue)")
        var options = StreamOptions()
        options.bandRows = 8
        var rowsWritten = 0
        options.rowsProgress = { done, _ in rowsWritten = done }
        do {
            _ = try model.upscaleFile(input, to: output, options: options)
            Issue.record("\(format): a cut file was upscaled without an error")
        } catch let error as ImageIOError {
            #expect(error.path == input, "\(format): the error names \(error.path)")
        }
        #expect(rowsWritten > 0, "\(format): the cut should be found after some bands were written")
        #expect(!FileManager.default.fileExists(atPath: output), "\(format): a partial output was left")
        #expect(dir.entries == ["cut.\(format.rawValue)"], "\(format): leftovers \(dir.entries)")
        try FileManager.default.removeItem(atPath: input)
    }
}

@Test func aCancelMidStreamLeavesNoOutput() throws {
    let dir = ScratchDir("stream-cancel")
    defer { dir.remove() }
    let model = try Model(bytes: BuiltinModels.bytes(named: "x2")!, name: "x2")
    try ImageCodec.encode(RasterImage(color: noisyImage(channels: 3, height: 64, width: 8, seed: 31), alpha: nil),
                          to: dir.file("in.png"))
    var options = StreamOptions()
    options.bandRows = 8
    var rowsWritten = 0
    options.rowsProgress = { done, _ in rowsWritten = done }
    options.run.isCancelled = { rowsWritten >= 32 }
    #expect(throws: CancellationError.self) {
        _ = try model.upscaleFile(dir.file("in.png"), to: dir.file("out.png"), options: options)
    }
    #expect(rowsWritten == 32)
    #expect(dir.entries == ["in.png"], "leftovers \(dir.entries)")
}
