// Issue 24, item 9: a rotated JPEG (EXIF orientation 5–8) is read in groups of displayed rows.
// When the one-group plan (the whole image's samples, one read of the file) and the rest of the
// run do not fit the budget together, the job takes the largest group that does (more reads)
// before refusing. The oracle: the output is the same file as with no budget in the way.
import Foundation
import Testing
@testable import UpscaleKit

@Test func aRotatedJPEGTakesMoreReadsRatherThanBeingRefused() throws {
    let dir = ScratchDir("rotated-plan")
    defer { dir.remove() }
    let (h, w) = (80, 1300)   // stored; displayed 80 wide, 1300 tall: 312000 bytes of samples
    let color = Tensor(shape: [1, 3, h, w], data: (0..<(3 * h * w)).map { Float(($0 * 37 + $0 / w * 11) % 256) / 255 })
    let plain = try ImageCodec.encode(RasterImage(color: color, alpha: nil), format: .jpeg)
    let path = dir.file("r.jpg")
    try Data(JPEGBytes.inserting(JPEGBytes.exifSegment(orientation: 6, bigEndian: true), into: [UInt8](plain)))
        .write(to: URL(fileURLWithPath: path))
    // Nearest neighbour ×2: one grouped conv_transpose2d, weights 1.
    let model = try Model(layers: [ModelLayer(weight: Tensor(shape: [3, 1, 2, 2], data: [Float](repeating: 1, count: 12)),
                                              stride: (2, 2), groups: 3)],
                          scale: 2, channels: .rgb, residual: .none, metadata: [:])
    var settings = UpscaleSettings(threads: 1)
    settings.tileSize = 16

    // The one-group plan's estimate, as FileJob makes it under a budget the samples fit half of.
    let info = try ImageCodec.probe(path: path, options: DecodeOptions())
    let samples = 3 * 80 * 1300
    let run = settings.run(for: model, isCancelled: { false })
    let encode = settings.encode(format: .png, outputPixels: 4 * info.width * info.height)
    let oneGroup = model.memoryEstimate(for: info, run: run, format: .png, encode: encode).total
    let budget = oneGroup - 1
    try #require(info.orientation == 6 && info.wholeImageBytes >= samples && 2 * samples <= budget,
                 "the samples (\(samples)) must fit half of the budget (\(budget)) for the default plan to take one group")

    func upscale(_ name: String, budget: Int?) throws -> [UInt8]? {
        var job = settings
        job.maxMemory = budget
        let batch = BatchJob(input: BatchInput(path: path, relativePath: "r.jpg", fromFolder: false),
                             output: dir.file(name), format: .png)
        _ = try FileJob(batch, model: model, settings: job).run(
            standardInput: { _ in throw CancellationError() }, standardOutput: { _ in }, progress: { _ in }, isCancelled: { false })
        return FileManager.default.contents(atPath: dir.file(name)).map { [UInt8]($0) }
    }
    let unbounded = try upscale("whole.png", budget: nil)
    let grouped = try upscale("grouped.png", budget: budget)
    #expect(unbounded != nil && grouped == unbounded)

    // Below what one displayed row and the rest need, it is refused, naming the file.
    #expect(throws: ImageIOError.self) { try upscale("refused.png", budget: oneGroup - samples) }
    #expect(!FileManager.default.fileExists(atPath: dir.file("refused.png")))
}

/// The final step checks the target again: a FIFO made at the output path while the image was
/// being written is not replaced, with `overwrite` either (issue 24, item 1).
@Test func aNodeMadeAtTheTargetDuringTheWriteIsNotReplaced() throws {
    let dir = ScratchDir("late-fifo")
    defer { dir.remove() }
    let target = dir.file("out.png")
    let write = try AtomicWrite(path: target, overwrite: true)
    #expect(fwrite("bytes", 1, 5, write.file) == 5)
    #expect(mkfifo(target, 0o644) == 0)
    #expect { try write.commit() } throws: { ($0 as? ImageIOError)?.kind == .outputNotRegular }
    var status = stat()
    #expect(lstat(target, &status) == 0 && status.st_mode & S_IFMT == S_IFIFO)
    #expect(dir.entries == ["out.png"], "the temporary is removed: \(dir.entries)")

    // And a FIFO already there when the write begins is refused at once.
    #expect { try AtomicWrite(path: target, overwrite: true) } throws: { ($0 as? ImageIOError)?.kind == .outputNotRegular }
    #expect(dir.entries == ["out.png"])
}
