import Foundation
import Testing
import UpscaleKit

/// Memory bombs (issue 15, item 9): files of a few hundred bytes whose headers declare 30000×30000
/// pixels on the paths that hold the whole image. Each is refused before any image-sized allocation
/// (or fails on its missing data), with exit 1, a message naming the file, and nothing written.
@Suite struct MemoryBudgetTests {
    /// A 30000×30000 RGBA Adam7 PNG whose image data is one empty stored deflate block.
    static func interlacedPNGBomb() -> Data {
        let side: [UInt8] = [0x00, 0x00, 0x75, 0x30]  // 30000, big-endian
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += TinyPNG.chunk("IHDR", side + side + [8, 6, 0, 0, 1])
        png += TinyPNG.chunk("IDAT", [0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01])
        png += TinyPNG.chunk("IEND", [])
        return Data(png)
    }

    /// A 16×16 baseline JPEG whose frame header is edited to 30000×30000, with an EXIF APP1 saying
    /// orientation 6 (rotate 90°) right after SOI.
    static func rotatedJPEGBomb() throws -> Data {
        let image = RasterImage(color: Tensor(shape: [1, 3, 16, 16], data: [Float](repeating: 0.5, count: 768)), alpha: nil)
        var jpeg = try ImageCodec.encode(image, format: .jpeg)
        let sof = try #require((2..<(jpeg.count - 9)).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [0x75, 0x30, 0x75, 0x30])  // height, width
        // "Exif\0\0", TIFF "MM\0*" with IFD0 at 8: one entry, Orientation (0x0112) SHORT 1 = 6.
        let tiff: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let app1 = [0xFF, 0xE1, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)] + payload
        return Data(Array(jpeg[0..<2]) + app1 + Array(jpeg[2...]))
    }

    static let bombs: [(name: String, make: @Sendable () throws -> Data)] = [
        ("bomb.png", { interlacedPNGBomb() }), ("bomb.jpg", { try rotatedJPEGBomb() }),
    ]

    /// Under --max-memory 1G. The PNG's interlaced rows (3.4 GB) are refused from its header. The
    /// rotated JPEG streams in groups of rows that fit the budget (it reads its file once per
    /// group, also from stdin's bytes and into stdout's spool), so it is not refused: it fails on
    /// its missing data; only --tta, which holds the whole image, is refused. Both within the budget
    /// (the child's peak resident memory, VmHWM), exit 1, the file named, nothing written.
    @Test(arguments: 0..<2, [[String](), ["--tta"], ["-o", "-"]])
    func bombFailsWithinTheBudget(bomb: Int, path: [String]) throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (name, make) = Self.bombs[bomb]
        let bytes = try make()
        #expect(bytes.count < 1000)
        try bytes.write(to: URL(fileURLWithPath: root + "/" + name))
        try TestModel.write(to: root + "/model.bin")
        let output = path.contains("-o") ? path : ["-o", root + "/out.png"] + path
        let result = try Spawned.run([root + "/" + name, "-m", root + "/model.bin", "--max-memory", "1G"] + output, in: root)
        #expect(result.status == 1 && result.signal == nil, "\(result.stderr)")
        #expect(result.maxRSS < 1 << 30, "peak resident \(result.maxRSS >> 20) MB")
        #expect(result.stderr.contains(name), "\(result.stderr)")
        let refused = result.stderr.contains("over the memory budget of 1 GB") && result.stderr.contains("--max-memory")
        #expect(refused == (name == "bomb.png" || path == ["--tta"]), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        let files = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        #expect(files == [name, "model.bin"].sorted(), "\(files)")
    }

    /// With the default budget (half the physical memory: over the bomb's needs on a large machine,
    /// under them on a small one) the file still fails cleanly: refused, or its missing data found
    /// before the untouched buffers cost anything. Never a crash (exit 134) or a leftover file.
    @Test(arguments: 0..<2)
    func bombFailsCleanlyUnderTheDefaultBudget(bomb: Int) throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (name, make) = Self.bombs[bomb]
        try make().write(to: URL(fileURLWithPath: root + "/" + name))
        try TestModel.write(to: root + "/model.bin")
        let result = try Spawned.run([root + "/" + name, "-m", root + "/model.bin", "-o", root + "/out.png"], in: root)
        #expect(result.status == 1 && result.signal == nil, "\(result.stderr)")
        #expect(result.maxRSS < 1 << 30, "peak resident \(result.maxRSS >> 20) MB")
        #expect(result.stderr.contains(name), "\(result.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        #expect(files == [name, "model.bin"].sorted(), "\(files)")
    }

    /// A rotated JPEG under a budget too small for its samples is read in groups of rows, once
    /// per group: the output is the same file as with the whole image in memory.
    @Test func rotatedJPEGInGroupsGivesTheSameOutput() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try TestModel.write(to: root + "/model.bin")
        let (h, w) = (80, 1300)   // stored; displayed 80 wide, 1300 tall: 312 KB of samples
        let color = Tensor(shape: [1, 3, h, w], data: (0..<(3 * h * w)).map { Float(($0 * 37 + $0 / w * 11) % 256) / 255 })
        let jpeg = try ImageCodec.encode(RasterImage(color: color, alpha: nil), format: .jpeg)
        let tiff: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        try Data(Array(jpeg[0..<2]) + [0xFF, 0xE1, 0, UInt8(payload.count + 2)] + payload + Array(jpeg[2...]))
            .write(to: URL(fileURLWithPath: root + "/r.jpg"))
        let whole = try CLI.run(["r.jpg", "-m", "model.bin", "-o", "whole.png"], in: root)
        #expect(whole.status == 0, "\(whole.stderr)")
        // 600 KB: the samples are over half of it, so groups of a quarter of it, 640 rows (3 reads
        // of the file), and the model's estimate (about 400 KB at -t 16) still fits beside one.
        let grouped = try CLI.run(["r.jpg", "-m", "model.bin", "-o", "grouped.png", "--max-memory", "600K", "-t", "16"], in: root)
        #expect(grouped.status == 0, "\(grouped.stderr)")
        var options = DecodeOptions()
        options.maxMemory = 600 << 10
        #expect(try ImageCodec.probe(path: root + "/r.jpg", options: options).wholeImageBytes == 640 * 80 * 3)   // one group
        let (a, b) = (FileManager.default.contents(atPath: root + "/whole.png"), FileManager.default.contents(atPath: root + "/grouped.png"))
        #expect(a != nil && a == b)
    }

    @Test func smallFilesPassASmallBudgetAndATinyOneIsRefused() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try TestModel.write(to: root + "/model.bin")
        try TinyPNG.rgb(width: 8, height: 8, pixels: TinyPNG.pattern(width: 8, height: 8))
            .write(to: URL(fileURLWithPath: root + "/a.png"))
        let fits = try CLI.run(["a.png", "-m", "model.bin", "-o", "fits.png", "--max-memory", "64M"], in: root)
        #expect(fits.status == 0, "\(fits.stderr)")
        let tiny = try CLI.run(["a.png", "-m", "model.bin", "-o", "tiny.png", "--max-memory", "1K"], in: root)
        #expect(tiny.status == 1 && tiny.stderr.contains("over the memory budget of 1 KB"), "\(tiny.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/tiny.png"))
    }

    @Test(arguments: ["0", "12Q", "1.5G", "-4G"])
    func badSizesAreUsageErrors(size: String) throws {
        let result = try CLI.run(["a.png", "--max-memory", size, "--dry-run"])
        #expect(result.status == 64 && result.stderr.contains("--max-memory"), "\(result.stderr)")
    }
}

/// A deep stack's default tile (`Model.defaultTileSize`, here 576 for halo 17) is a speed choice:
/// when the budget holds the run at 256 but not at the larger tile, `upscale` runs at 256 and gives
/// the same bytes; an explicit `--tile 576` is refused over the same budget.
@Suite struct DefaultTileTests {
    /// 17 stride-1 3×3 layers of 4 channels, RGB in and out, then a 2×2 stride-2 layer: halo 17.
    static func deepModel() throws -> Model {
        var rng = SystemRandomNumberGenerator()
        func weight(_ cin: Int, _ cout: Int, _ k: Int) -> Tensor {
            Tensor(shape: [cin, cout, k, k], data: (0..<(cin * cout * k * k)).map { _ in Float.random(in: -0.1...0.1, using: &rng) })
        }
        var layers = [ModelLayer(weight: weight(3, 4, 3), padding: (1, 1), activation: .relu)]
        for _ in 0..<16 { layers.append(ModelLayer(weight: weight(4, 4, 3), padding: (1, 1), activation: .relu)) }
        layers.append(ModelLayer(weight: weight(4, 3, 2), stride: (2, 2)))
        return try Model(layers: layers, scale: 2, channels: .rgb, residual: .none, metadata: ["name": "deep-test"])
    }

    @Test func overBudgetDefaultTileFallsBackToTheStandardTile() throws {
        let model = try Self.deepModel()
        #expect(model.receptiveHalo == 17 && model.defaultTileSize == 576)
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try model.write(to: dir + "/deep.bin")
        try TinyPNG.rgb(width: 800, height: 700, pixels: TinyPNG.pattern(width: 800, height: 700))
            .write(to: URL(fileURLWithPath: dir + "/in.png"))
        let info = try ImageCodec.probe(path: dir + "/in.png")
        func estimate(tile: Int) -> Int {
            var run = RunOptions()
            run.tileSize = tile
            run.threads = 1
            return model.memoryEstimate(for: info, run: run, format: .png, encode: EncodeOptions()).total
        }
        let (small, large) = (estimate(tile: 256), estimate(tile: 576))
        try #require(large > small + (1 << 20), "the larger tile must need more memory: \(small) vs \(large)")
        let budget = String((small + large) / 2)
        let base = ["-m", dir + "/deep.bin", dir + "/in.png", "-j", "1", "--max-memory", budget, "--quiet"]
        let fallback = try CLI.run(base + ["-o", dir + "/default.png"])
        #expect(fallback.status == 0, "\(fallback.stderr)")
        let standard = try CLI.run(base + ["-o", dir + "/256.png", "--tile", "256"])
        #expect(standard.status == 0, "\(standard.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/default.png")) == Data(contentsOf: URL(fileURLWithPath: dir + "/256.png")))
        let refused = try CLI.run(base + ["-o", dir + "/576.png", "--tile", "576"])
        #expect(refused.status == 1 && refused.stderr.contains("memory budget"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/576.png"))
    }

    /// 256 for the shallow models (halo 8 and the built-ins), 32 halos rounded up to 64 above that, at most 1024.
    @Test func defaultTileGrowsWithTheHalo() throws {
        #expect(try TestModel.make().defaultTileSize == 256)
        #expect(try Self.deepModel().defaultTileSize == 576)
        var rng = SystemRandomNumberGenerator()
        let layers = (0..<10).map { _ in
            ModelLayer(weight: Tensor(shape: [3, 3, 3, 3], data: (0..<81).map { _ in Float.random(in: -0.1...0.1, using: &rng) }),
                       padding: (1, 1))
        } + [ModelLayer(weight: Tensor(shape: [3, 3, 2, 2], data: [Float](repeating: 0.1, count: 36)), stride: (2, 2))]
        let ten = try Model(layers: layers, scale: 2, channels: .rgb, residual: .none, metadata: ["name": "ten"])
        #expect(ten.receptiveHalo == 10 && ten.defaultTileSize == 320)
        let forty = try Model(layers: Array(repeating: layers[0], count: 40) + [layers[10]], scale: 2, channels: .rgb,
                              residual: .none, metadata: ["name": "forty"])
        #expect(forty.receptiveHalo == 40 && forty.defaultTileSize == 1024)
    }
}
