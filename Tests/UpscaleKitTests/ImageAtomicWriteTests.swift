// Atomic writes: a temporary file beside the target, renamed into place only when complete;
// no leftovers on any failure; an existing target is refused unless overwrite is set.
import Foundation
import Testing
@testable import UpscaleKit

let tinyImage = RasterImage(color: Tensor(shape: [1, 3, 2, 2], data: (0..<12).map { Float($0 * 20) / 255 }), alpha: nil)

@Test func encodeWritesTheTargetAndNothingElse() throws {
    let dir = ScratchDir("atomic")
    defer { dir.remove() }
    for name in ["out.png", "out.JPG", "out.jpeg"] {
        let notes = try ImageCodec.encode(tinyImage, to: dir.file(name))
        #expect(notes.isEmpty)
        let expected: ImageFormat = name.hasSuffix("png") ? .png : .jpeg
        #expect(ImageFormat.sniff(readBytes(dir.file(name))) == expected)
    }
    #expect(dir.entries == ["out.JPG", "out.jpeg", "out.png"])
    #expect(AtomicFile.inFlightPaths.filter { $0.hasPrefix(dir.path) }.isEmpty)

    // The format option wins over the extension; an unknown extension without it is refused.
    var options = EncodeOptions()
    options.format = .png
    try ImageCodec.encode(tinyImage, to: dir.file("forced.jpg"), options: options)
    #expect(ImageFormat.sniff(readBytes(dir.file("forced.jpg"))) == .png)
    #expect { try ImageCodec.encode(tinyImage, to: dir.file("out.bmp")) }
        throws: { ($0 as? ImageIOError)?.path == dir.file("out.bmp") }
}

@Test func existingTargetIsRefusedUnlessOverwrite() throws {
    let dir = ScratchDir("overwrite")
    defer { dir.remove() }
    let target = dir.file("out.png")
    writeBytes(Array("keep me".utf8), to: target)
    #expect { try ImageCodec.encode(tinyImage, to: target) }
        throws: { error in
            guard let error = error as? ImageIOError else { return false }
            return error.path == target && error.message.contains("--overwrite")
        }
    #expect(readBytes(target) == Array("keep me".utf8))
    #expect(dir.entries == ["out.png"])

    var options = EncodeOptions()
    options.overwrite = true
    try ImageCodec.encode(tinyImage, to: target, options: options)
    #expect(try ImageCodec.decode(path: target).color == tinyImage.color)
    #expect(dir.entries == ["out.png"])
}

@Test func failedEncodeLeavesTargetAndFolderUntouched() throws {
    let dir = ScratchDir("failed")
    defer { dir.remove() }
    let target = dir.file("out.png")
    writeBytes(Array("old".utf8), to: target)
    var options = EncodeOptions()
    options.overwrite = true
    // A colour tensor with 2 channels is refused; a JPEG quality of 101 is refused after the
    // temporary file exists: both must leave nothing behind.
    let twoChannels = RasterImage(color: Tensor(zeros: [1, 2, 2, 2]), alpha: nil)
    #expect(throws: ImageIOError.self) { try ImageCodec.encode(twoChannels, to: target, options: options) }
    options.jpegQuality = 101
    #expect(throws: ImageIOError.self) { try ImageCodec.encode(tinyImage, to: dir.file("out.jpg"), options: options) }
    #expect(readBytes(target) == Array("old".utf8))
    #expect(dir.entries == ["out.png"])

    // No folder to write into: the error names the target.
    let nowhere = dir.file("missing/out.png")
    #expect { try ImageCodec.encode(tinyImage, to: nowhere) } throws: { ($0 as? ImageIOError)?.path == nowhere }
}

@Test func rowWriterCommitsOnlyAtFinish() throws {
    let dir = ScratchDir("rows-atomic")
    defer { dir.remove() }
    let target = dir.file("band.png")
    let writer = try ImageCodec.openWriter(path: target, width: 2, height: 2, colorChannels: 3, hasAlpha: false)
    // In flight: only the hidden temporary file exists, and it is registered for signal cleanup.
    let temps = dir.entries
    #expect(temps.count == 1 && temps[0].hasPrefix(AtomicFile.temporaryNamePrefix))
    #expect(AtomicFile.inFlightPaths.contains(dir.file(temps[0])))
    let bands = [ImageBand(color: Tensor(shape: [1, 3, 1, 2], data: Array(tinyImage.color.data[0..<6])), alpha: nil)]
    try writer.write(bands[0])
    // A band of the wrong width is a thrown error; the caller then aborts.
    #expect(throws: ImageIOError.self) { try writer.write(ImageBand(color: Tensor(zeros: [1, 3, 1, 3]), alpha: nil)) }
    writer.abort()
    #expect(dir.entries.isEmpty)
    #expect(!AtomicFile.inFlightPaths.contains(dir.file(temps[0])))

    // Finishing with rows missing fails and cleans up.
    let short = try ImageCodec.openWriter(path: target, width: 2, height: 2, colorChannels: 3, hasAlpha: false)
    try short.write(bands[0])
    #expect(throws: ImageIOError.self) { _ = try short.finish() }
    #expect(dir.entries.isEmpty)

    // Dropping an unfinished writer removes its temporary file too.
    do {
        let dropped = try ImageCodec.openWriter(path: target, width: 2, height: 2, colorChannels: 1, hasAlpha: false)
        _ = dropped
    }
    #expect(dir.entries.isEmpty)
}

@Test func removeAllInFlightUnlinksTemporaryFiles() throws {
    let dir = ScratchDir("signal")
    defer { dir.remove() }
    let other = ScratchDir("signal")   // a writer elsewhere, which the narrowed call must leave alone
    defer { other.remove() }
    let writer = try ImageCodec.openWriter(path: dir.file("x.jpg"), width: 4, height: 4, colorChannels: 3, hasAlpha: false)
    let otherWriter = try ImageCodec.openWriter(path: other.file("y.png"), width: 4, height: 4, colorChannels: 3, hasAlpha: false)
    #expect(dir.entries.count == 1 && other.entries.count == 1)
    // What a SIGINT handler calls, narrowed to this test's folder: the whole-process version would
    // also unlink the temporary files of tests running beside this one.
    AtomicFile.removeAllInFlight(inside: dir.path)
    #expect(dir.entries.isEmpty)
    #expect(other.entries.count == 1)
    writer.abort()
    otherWriter.abort()
    #expect(dir.entries.isEmpty && other.entries.isEmpty)
}

@Test func aTargetThatAppearsDuringTheWriteIsKept() throws {
    // Another process creates the target after this writer checked it was free: the final step
    // must not replace it, and must say so.
    let dir = ScratchDir("appeared")
    defer { dir.remove() }
    let target = dir.file("out.png")
    let writer = try ImageCodec.openWriter(path: target, width: 2, height: 2, colorChannels: 3, hasAlpha: false)
    try writer.write(ImageBand(color: tinyImage.color, alpha: nil))
    writeBytes(Array("theirs".utf8), to: target)
    #expect { _ = try writer.finish() } throws: { error in
        (error as? ImageIOError)?.kind == .outputExists(appearedMeanwhile: true)
            && (error as? ImageIOError)?.message.contains("appeared meanwhile") == true
    }
    #expect(readBytes(target) == Array("theirs".utf8))
    #expect(dir.entries == ["out.png"])
}

@Test(arguments: [true, false])
func theFinalStepMovesOnlyOntoAFreeName(useRenameat2: Bool) throws {
    // renameat2(RENAME_NOREPLACE), and the link() + unlink() fallback for filesystems without it.
    let dir = ScratchDir("noreplace")
    defer { dir.remove() }
    writeBytes([1], to: dir.file("first"))
    #expect(AtomicWrite.moveWithoutReplacing(dir.file("first"), to: dir.file("target"), useRenameat2: useRenameat2) == .moved)
    #expect(dir.entries == ["target"] && readBytes(dir.file("target")) == [1])
    writeBytes([2], to: dir.file("second"))
    #expect(AtomicWrite.moveWithoutReplacing(dir.file("second"), to: dir.file("target"), useRenameat2: useRenameat2)
            == .targetExists)
    #expect(readBytes(dir.file("target")) == [1] && readBytes(dir.file("second")) == [2])
}

@Test func temporaryNamesAreShortAndTellTheirProcess() throws {
    let prefix = AtomicFile.temporaryNamePrefix
    #expect(prefix.utf8.count + 6 <= 32, "\(prefix)")
    #expect(AtomicFile.ownerOfTemporary(named: prefix + "aB3dE9") == getpid())
    let host = AtomicFile.hostTag
    for name in [".upscale-\(host)-12-aB3dE9x", ".upscale-\(host)-12-aB3d", ".upscale-\(host)-x1-aB3dE9",
                 ".upscale-\(host)-012-aB3dE9", ".upscale-\(host)-12-aB-dE9", ".upscale-\(host)--aB3dE9",
                 ".out.png.upscale-aB3dE9", "upscale-\(host)-12-aB3dE9"] {
        #expect(AtomicFile.ownerOfTemporary(named: name) == nil, "\(name)")
    }
    #expect(AtomicFile.ownerOfTemporary(named: ".upscale-\(host)-12-aB3dE9") == 12)
}

@Test func staleTemporariesOfGoneProcessesAreRemovedAndNothingElse() throws {
    let dir = ScratchDir("stale")
    defer { dir.remove() }
    let gone = Process()  // a process that has exited: its id names no process (until reused)
    gone.executableURL = URL(fileURLWithPath: "/bin/true")
    try gone.run()
    gone.waitUntilExit()
    let stale = ".upscale-\(AtomicFile.hostTag)-\(gone.processIdentifier)-aB3dE9"
    let live = AtomicFile.temporaryNamePrefix + "aB3dE9"
    for name in [stale, live, "keep.png", ".upscale-notes"] { writeBytes([0], to: dir.file(name)) }
    #expect(AtomicFile.removeStaleTemporaries(in: dir.path) == [stale])
    #expect(dir.entries == [".upscale-notes", live, "keep.png"].sorted())
}

@Test func writebackBetweenWritesKeepsEveryByteAndTheTargetUntilCommit() throws {
    // The writer starts the disk writes after each band (sync_file_range); the file is still only
    // the temporary until commit, and holds every byte, in order, after it.
    let dir = ScratchDir("writeback")
    defer { dir.remove() }
    let target = dir.file("out.bin")
    let write = try AtomicWrite(path: target, overwrite: false)
    var expected: [UInt8] = []
    for part in 0..<3 {
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7 + part) }
        #expect(fwrite(bytes, 1, bytes.count, write.file) == bytes.count)
        expected += bytes
        write.startWriteback()
        #expect(!FileSystem.exists(target), "the target appeared before commit")
    }
    try write.commit()
    #expect(readBytes(target) == expected)
    #expect(dir.entries == ["out.bin"])
}
