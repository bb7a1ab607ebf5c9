import Foundation
import Testing
import UpscaleKit
#if canImport(Glibc)
import Glibc
#endif

/// The memory budget's other sources (issue 24): the address-space limit (`ulimit -v`, item 4),
/// under which an allocation that fails must never be a crash, and stdin, whose image is held in
/// memory and must be bounded by the budget and read no further than its end (item 3).
@Suite struct MemoryLimitTests {
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("samples").path

    /// A 2048×2048 RGB PNG of a smooth pattern (the big2048.png).
    static func bigPNG() throws -> [UInt8] {
        let (w, h) = (2048, 2048)
        var data = [Float](repeating: 0, count: 3 * w * h)  // (1, 3, h, w)
        for c in 0..<3 { for y in 0..<h { for x in 0..<w {
            data[(c * h + y) * w + x] = Float((x * (c + 1) + y * (3 - c)) % 256) / 255
        } } }
        return try ImageCodec.encode(RasterImage(color: Tensor(shape: [1, 3, h, w], data: data), alpha: nil), format: .png)
    }

    /// Names in `folder` other than `keep`: outputs, temporaries.
    static func leftovers(_ folder: String, keep: Set<String>) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { !keep.contains($0) }.sorted()
    }

    /// `(ulimit -v 150000; upscale big2048.png -o o.png)`, which crashed (exit 134, "failed to
    /// allocate") and left a temporary file: now refused up front, exit 1, with a message that
    /// names the file and the limit, and nothing left in the folder.
    @Test func refusedCleanlyUnderUlimitV() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Data(try Self.bigPNG()).write(to: URL(fileURLWithPath: root + "/big2048.png"))
        let result = try Spawned.run([root + "/big2048.png", "-o", root + "/o.png"], in: root, addressSpaceKB: 150_000)
        #expect(result.status == 1 && result.signal == nil, "\(result.stderr)")
        #expect(result.stderr.contains("big2048.png: upscaling this 2048×2048 image needs")
                && result.stderr.contains("address-space limit (ulimit -v)"), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("crashed"))
        #expect(try Self.leftovers(root, keep: ["big2048.png"]).isEmpty)
    }

    /// A sample upscaled with TTA (the path whose real peak is furthest above the estimate) under
    /// a range of address-space limits: each run either succeeds with the whole output, or is
    /// refused with the message; never a crash, never a leftover file.
    @Test func neverCrashesAtAnyAddressSpaceLimit() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let input = Self.samples + "/camera.png"
        var outcomes: [String] = []
        var successes = 0
        for limitMB in stride(from: 100, through: 400, by: 8) where successes < 3 {
            let output = root + "/out-\(limitMB).png"
            let result = try Spawned.run([input, "--tta", "-j", "2", "-o", output], in: root, addressSpaceKB: limitMB * 1024)
            outcomes.append("\(limitMB) MiB: \(result.status)")
            #expect(result.signal == nil && (result.status == 0 || result.status == 1), "\(limitMB) MiB: \(result.stderr)")
            if result.status == 0 {
                successes += 1
                let written = try ImageCodec.probe(path: output)
                #expect(written.width == 1024 && written.height == 1024)
                try FileManager.default.removeItem(atPath: output)
            } else {
                #expect(result.stderr.contains("ulimit -v"), "\(limitMB) MiB: \(result.stderr)")
            }
            #expect(try Self.leftovers(root, keep: []).isEmpty, "\(limitMB) MiB")
        }
        #expect(successes == 3, "\(outcomes)")
    }

    /// A sparse file of `zeros` zero bytes after `head`: a stream of that length that costs no disk.
    static func sparseFile(_ path: String, head: [UInt8], zeros: Int) throws {
        try Data(head).write(to: URL(fileURLWithPath: path))
        #expect(truncate(path, off_t(head.count + zeros)) == 0)
    }

    /// `(printf '\x89PNG\r\n\x1a\n'; cat /dev/zero) | upscale - --max-memory 100M` read all of
    /// stdin first (2 GB in 4 s): now the zeros after the signature are a broken chunk, and the
    /// run fails at once, within the budget.
    @Test func stdinOfZerosIsNotReadWhole() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let stdin = root + "/zeros"
        try Self.sparseFile(stdin, head: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], zeros: 1 << 30)
        let result = try Spawned.run(["-", "-o", root + "/z.png", "--max-memory", "100M"], in: root, stdin: stdin)
        #expect(result.status == 1 && result.signal == nil, "\(result.stderr)")
        #expect(result.stderr.contains("stdin"), "\(result.stderr)")
        #expect(result.maxRSS < 100 << 20, "peak resident \(result.maxRSS >> 20) MB")
        #expect(try Self.leftovers(root, keep: ["zeros"]).isEmpty)
    }

    /// A photo followed by 300 MB of zeros (it peaked at 626 MB): the photo is read through its
    /// end, upscaled as from its file, and the zeros are never read.
    @Test func stdinIsReadThroughTheImageOnly() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try TestModel.write(to: root + "/model.bin")
        for sample in ["chelsea.png", "rocket.jpg"] {
            let stdin = root + "/" + sample + ".stdin"
            let photo = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.samples + "/" + sample)))
            try Self.sparseFile(stdin, head: photo, zeros: 300 << 20)
            let output = root + "/" + sample + ".png"
            let result = try Spawned.run(["-", "-m", root + "/model.bin", "-o", output, "--max-memory", "200M"],
                                         in: root, stdin: stdin)
            #expect(result.status == 0 && result.signal == nil, "\(sample): \(result.stderr)")
            #expect(result.maxRSS < 200 << 20, "\(sample): peak resident \(result.maxRSS >> 20) MB")
            let input = try TestModel.decodeRGB8(Self.samples + "/" + sample)
            let written = try TestModel.decodeRGB8(output)
            #expect(written.width == 2 * input.width && written.height == 2 * input.height)
            #expect(written.pixels == BytePathTests.nearestX2(input.pixels, width: input.width, height: input.height),
                    "\(sample): not the photo upscaled")
        }
    }

    /// An image on stdin larger than the budget is refused while it is read, naming stdin and the
    /// budget, with the budget's hint.
    @Test func stdinOverTheBudgetIsRefused() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let stdin = Self.samples + "/astronaut.png"  // 773 KiB
        let result = try Spawned.run(["-", "-o", root + "/a.png", "--max-memory", "256K"], in: root, stdin: stdin)
        #expect(result.status == 1 && result.signal == nil, "\(result.stderr)")
        #expect(result.stderr.contains("stdin: the image is more than the memory budget of 256 KB")
                && result.stderr.contains("--max-memory"), "\(result.stderr)")
        #expect(try Self.leftovers(root, keep: []).isEmpty)
    }
}
