import Foundation
import Testing
import UpscaleKit
import UpscaleModels

/// End-to-end runs of the built binary on tiny PNGs written by `TinyPNG` and a tiny test model.
@Suite struct CLIRunTests {
    /// A folder with a test model (`model.bin`, scale 2) and the given PNGs (`name: (width, height)`).
    struct Workspace {
        let root: String
        var model: String { root + "/model.bin" }

        init(_ images: [String: (Int, Int)] = [:]) throws {
            root = try temporaryFolder()
            try TestModel.write(to: root + "/model.bin")
            for (name, size) in images { try addPNG(name, size.0, size.1) }
        }

        func addPNG(_ name: String, _ width: Int, _ height: Int, seed: Int = 0) throws {
            try write(name, TinyPNG.rgb(width: width, height: height,
                                       pixels: TinyPNG.pattern(width: width, height: height, seed: seed)))
        }

        func write(_ name: String, _ data: Data) throws {
            let path = root + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: path))
        }

        func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: root + "/" + name) }
        func data(_ name: String) -> Data? { FileManager.default.contents(atPath: root + "/" + name) }
        func pngSize(_ name: String) -> (width: Int, height: Int)? { data(name).flatMap(TinyPNG.size) }

        /// Every file below the root, relative, sorted; temp files included so leaks show.
        func listing() -> [String] {
            (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter {
                var isDir: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: root + "/" + $0, isDirectory: &isDir)
                return !isDir.boolValue
            }.sorted()
        }

        func run(_ arguments: [String], stdin: Data? = nil) throws -> CLIResult {
            try CLI.run(arguments + ["-m", model], in: root, stdin: stdin)
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    @Test func singleFileGetsTheDefaultNameBesideIt() throws {
        let ws = try Workspace(["pics/cat.png": (8, 6)])
        defer { ws.remove() }
        let result = try ws.run(["pics/cat.png"])
        #expect(result.status == 0, "\(result.stderr)")
        let size = try #require(ws.pngSize("pics/cat_x2.png"), "\(ws.listing())")
        #expect(size == (16, 12))
        #expect(result.stdout.isEmpty)
    }

    @Test func explicitOutputFileAndFormat() throws {
        let ws = try Workspace(["a.png": (8, 8)])
        defer { ws.remove() }
        let png = try ws.run(["a.png", "-o", "big.png"])
        #expect(png.status == 0, "\(png.stderr)")
        #expect(ws.pngSize("big.png").map { [$0.width, $0.height] } == [16, 16])
        let jpg = try ws.run(["a.png", "-o", "big.jpg"])
        #expect(jpg.status == 0, "\(jpg.stderr)")
        #expect(ws.data("big.jpg").map { Array($0.prefix(3)) } == [0xFF, 0xD8, 0xFF])  // JPEG SOI marker
        let forced = try ws.run(["a.png", "-o", "big.out", "-f", "png"])
        #expect(forced.status == 0 && ws.pngSize("big.out") != nil, "\(forced.stderr)")
        let unknown = try ws.run(["a.png", "-o", "big.tiff"])
        #expect(unknown.status == 64 && unknown.stderr.contains("big.tiff"), "\(unknown.stderr)")
    }

    @Test func upscaledPixelsAreTheTestModelsNearestNeighbour() throws {
        // The test model repeats every input pixel in a 2x2 block, so the output is known exactly.
        let ws = try Workspace(["a.png": (5, 3)])
        defer { ws.remove() }
        let result = try ws.run(["a.png", "-o", "b.png"])
        #expect(result.status == 0, "\(result.stderr)")
        let out = try TestModel.decodeRGB8(ws.root + "/b.png")
        let input = TinyPNG.pattern(width: 5, height: 3)
        #expect(out.width == 10 && out.height == 6)
        var expected: [UInt8] = []
        for y in 0..<6 { for x in 0..<10 { for c in 0..<3 { expected.append(input[((y / 2) * 5 + x / 2) * 3 + c]) } } }
        #expect(out.pixels == expected)
    }

    @Test func outputFilesAreTheSameBytesForAnyTileSizeAndThreadCount() throws {
        let ws = try Workspace(["a.png": (150, 120)])
        defer { ws.remove() }
        for (k, flags) in [["-t", "16", "-j", "1"], ["-t", "48", "-j", "3"], ["-t", "256"]].enumerated() {
            let result = try ws.run(["a.png", "-o", "out\(k).png"] + flags)
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(ws.data("out0.png") != nil && ws.data("out0.png") == ws.data("out1.png") && ws.data("out1.png") == ws.data("out2.png"))
    }

    @Test func pngLevelSwitchesToZlibWithTheSamePixels() throws {
        let ws = try Workspace(["a.png": (40, 30)])
        defer { ws.remove() }
        let fast = try ws.run(["a.png", "-o", "fast.png"])
        let zlib = try ws.run(["a.png", "-o", "zlib.png", "--png-level", "9"])
        #expect(fast.status == 0 && zlib.status == 0, "\(fast.stderr) \(zlib.stderr)")
        #expect(try TestModel.decodeRGB8(ws.root + "/fast.png").pixels == TestModel.decodeRGB8(ws.root + "/zlib.png").pixels)
        // The zlib header's level field (RFC 1950, FLG bits 6–7): 0 "fastest" from our encoder,
        // 3 "maximum" from zlib at level 9.
        func flevel(_ name: String) -> UInt8? {
            guard let file = ws.data(name).map([UInt8].init), let idat = file.indices.first(where: {
                $0 + 10 <= file.count && file[$0..<($0 + 4)].elementsEqual("IDAT".utf8)
            }) else { return nil }
            return file[idat + 5] >> 6
        }
        #expect(flevel("fast.png") == 0)
        #expect(flevel("zlib.png") == 3)
    }

    @Test func folderRunMirrorsNamesAndSkipsOtherFiles() throws {
        let ws = try Workspace(["in/a.png": (8, 8), "in/B.PNG": (6, 4), "in/sub/c.png": (4, 4)])
        defer { ws.remove() }
        try ws.write("in/notes.txt", Data("hello".utf8))
        let flat = try ws.run(["in", "-o", "out", "--verbose"])
        #expect(flat.status == 0, "\(flat.stderr)")
        #expect(ws.listing().filter { $0.hasPrefix("out/") } == ["out/B.PNG", "out/a.png"])
        #expect(flat.stderr.contains("notes.txt"))
        #expect(flat.stderr.contains("2 done, 0 skipped, 0 failed"))
        let deep = try ws.run(["in", "-r", "-o", "deep"])
        #expect(deep.status == 0, "\(deep.stderr)")
        #expect(ws.listing().filter { $0.hasPrefix("deep/") } == ["deep/B.PNG", "deep/a.png", "deep/sub/c.png"])
        #expect(ws.pngSize("deep/sub/c.png").map { [$0.width, $0.height] } == [8, 8])
    }

    @Test func outputFolderInsideTheInputIsNotReadBack() throws {
        let ws = try Workspace(["in/a.png": (8, 8), "in/sub/b.png": (8, 8)])
        defer { ws.remove() }
        let first = try ws.run(["in", "-r", "-o", "in/out"])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try ws.run(["in", "-r", "-o", "in/out", "--skip-existing", "--json"])
        #expect(second.status == 0, "\(second.stderr)")
        let report = try JSONDecoder().decode(BatchReport.self, from: second.stdout)
        #expect(report.files.map(\.input).sorted() == ["in/a.png", "in/sub/b.png"])
        #expect(report.totals.skipped == 2)
        #expect(!ws.exists("in/out/out/a.png"))
    }

    @Test func aBrokenFileFailsAloneAndTheRunExits1() throws {
        let ws = try Workspace(["in/a.png": (8, 8), "in/c.png": (8, 8)])
        defer { ws.remove() }
        try ws.write("in/b.png", Data("not a png at all".utf8))
        let result = try ws.run(["in", "-o", "out"])
        #expect(result.status == 1)
        #expect(ws.exists("out/a.png") && ws.exists("out/c.png") && !ws.exists("out/b.png"))
        #expect(result.stderr.contains("in/b.png"), "\(result.stderr)")
        #expect(result.stderr.contains("2 done, 0 skipped, 1 failed"), "\(result.stderr)")
        #expect(!ws.listing().contains { $0.hasPrefix("out/.") }, "temp file left: \(ws.listing())")
    }

    @Test func aFileCutMidStreamLeavesNoOutputAndExits1() throws {
        // 300 rows in bands of 16 (-t 16): the cut at two thirds is found after ~12 bands were written.
        let ws = try Workspace()
        defer { ws.remove() }
        let whole = TinyPNG.rgb(width: 8, height: 300, pixels: TinyPNG.pattern(width: 8, height: 300))
        try ws.write("tall.png", whole.prefix(whole.count * 2 / 3))
        let result = try ws.run(["tall.png", "-o", "big.png", "-t", "16"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("tall.png"), "\(result.stderr)")
        #expect(ws.listing() == ["model.bin", "tall.png"], "output or temp file left: \(ws.listing())")
    }

    @Test func existingOutputIsRefusedSkippedOrOverwritten() throws {
        let ws = try Workspace(["a.png": (8, 8)])
        defer { ws.remove() }
        try ws.write("a_x2.png", Data("old".utf8))
        let refused = try ws.run(["a.png"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("a_x2.png") && refused.stderr.contains("--overwrite")
                && refused.stderr.contains("--skip-existing"), "\(refused.stderr)")
        #expect(ws.data("a_x2.png") == Data("old".utf8))
        let skipped = try ws.run(["a.png", "--skip-existing"])
        #expect(skipped.status == 0 && ws.data("a_x2.png") == Data("old".utf8), "\(skipped.stderr)")
        let replaced = try ws.run(["a.png", "--overwrite"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(ws.pngSize("a_x2.png").map { [$0.width, $0.height] } == [16, 16])
    }

    @Test func twoInputsForOneOutputAreRefusedByName() throws {
        let ws = try Workspace(["in/a.png": (8, 8), "in/b.png": (8, 8)])
        defer { ws.remove() }
        try ws.write("in/a.jpg", try #require(ws.data("in/a.png")))  // PNG bytes; refused before decoding
        let result = try ws.run(["in", "-o", "out", "-f", "png"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("in/a.jpg") && result.stderr.contains("in/a.png"), "\(result.stderr)")
        #expect(ws.exists("out/b.png") && !ws.exists("out/a.png"))
    }

    @Test func shardsCoverTheListExactlyOnce() throws {
        var images: [String: (Int, Int)] = [:]
        for k in 0..<7 { images["in/img\(k).png"] = (4, 4) }
        let ws = try Workspace(images)
        defer { ws.remove() }
        var seen: [String] = []
        for i in 1...3 {
            let result = try ws.run(["in", "-o", "out", "--shard", "\(i)/3", "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            let report = try JSONDecoder().decode(BatchReport.self, from: result.stdout)
            #expect(report.shard == "\(i)/3")
            #expect(report.files.allSatisfy { $0.status == .done })
            seen += report.files.map(\.input)
        }
        #expect(seen.sorted() == (0..<7).map { "in/img\($0).png" })
        #expect(ws.listing().filter { $0.hasPrefix("out/") }.count == 7)
    }

    @Test func jsonReportParsesWithSizesAndErrors() throws {
        let ws = try Workspace(["in/a.png": (8, 4)])
        defer { ws.remove() }
        try ws.write("in/bad.png", Data([0x89, 0x50, 0x4E, 0x47]))
        let result = try ws.run(["in", "-o", "out", "--json", "--quiet"])
        #expect(result.status == 1)
        let report = try JSONDecoder().decode(BatchReport.self, from: result.stdout)
        #expect(report.scale == 2 && report.totals.done == 1 && report.totals.failed == 1)
        let done = try #require(report.files.first { $0.input == "in/a.png" })
        #expect(done.status == .done && done.output == "out/a.png")
        #expect(done.inputWidth == 8 && done.inputHeight == 4 && done.outputWidth == 16 && done.outputHeight == 8)
        #expect(done.bytes == ws.data("out/a.png")?.count)
        let bad = try #require(report.files.first { $0.input == "in/bad.png" })
        #expect(bad.status == .failed && (bad.message ?? "").contains("bad.png"))
        // --quiet: only the error on stderr, no summary or progress.
        #expect(!result.stderr.contains("done"), "\(result.stderr)")
    }

    @Test func stdinToStdout() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let png = TinyPNG.rgb(width: 4, height: 2, pixels: TinyPNG.pattern(width: 4, height: 2))
        let result = try ws.run(["-"], stdin: png)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(TinyPNG.size(result.stdout).map { [$0.width, $0.height] } == [8, 4])
    }

    @Test func dryRunPlansWithoutWriting() throws {
        let ws = try Workspace(["in/a.png": (4, 4), "in/sub/b.jpg": (4, 4)])
        defer { ws.remove() }
        let result = try ws.run(["in", "-r", "-o", "out", "-f", "png", "--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText == "in/a.png\tout/a.png\nin/sub/b.jpg\tout/sub/b.png\n")
        #expect(!ws.exists("out"))
    }

    @Test func infoShowsTheLayerTableAndMetadata() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let result = try CLI.run(["info", ws.model])
        #expect(result.status == 0, "\(result.stderr)")
        let text = result.stdoutText
        #expect(text.contains("scale       x2") && text.contains("parameters  12"))
        #expect(text.contains("set5_psnr  12.34") && text.contains("test-nearest-x2"))
        #expect(text.contains("0  3   3    2x2     2,2     0,0      0,0     1,1       3       no    none"), "\(text)")
        // The kernel the layer runs: a 3-channel 2×2 stride-2 layer takes the narrow kernel.
        let row = text.split(separator: "\n").first { $0.hasPrefix("0  3   3    2x2") }
        #expect(row?.hasSuffix("narrow") == true && text.contains("Algorithm"), "\(text)")
    }

    @Test func modelsListsExactlyTheEmbeddedModels() throws {
        let result = try CLI.run(["models", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
        #expect(rows.compactMap { $0["name"] as? String } == BuiltinModels.names)
        // Numbers are JSON numbers: the scale is the one in the model's name, the quality a number per key.
        for row in rows {
            let name = try #require(row["name"] as? String)
            #expect((row["scale"] as? NSNumber)?.intValue == Int(name.dropFirst().prefix { $0.isNumber }), "\(row)")
            #expect(((row["parameters"] as? NSNumber)?.intValue ?? 0) > 0, "\(row)")
            let flops = (row["flopsPerPixel"] as? NSNumber)?.doubleValue ?? 0
            #expect(flops > 0 && flops == flops.rounded(), "\(row): FLOPs per pixel as a whole number")
            let quality = try #require(row["quality"] as? [String: Any], "\(row)")
            let psnr = try #require(quality["set5_psnr"] as? NSNumber, "\(row)")
            #expect(psnr.doubleValue > 20 && psnr.doubleValue < 50, "\(row)")
            #expect(!(quality["set5_psnr"] is String))
        }
        // The table prints PSNR to 0.01 dB and SSIM to 4 places, as measured (0.9170, not 0.917).
        let text = try CLI.run(["models"]).stdoutText
        let values = text.split(whereSeparator: \.isWhitespace).map(String.init)
        for (key, value) in zip(values, values.dropFirst()) where key.hasSuffix("_psnr") || key.hasSuffix("_ssim") {
            let digits = value.trimmingCharacters(in: CharacterSet(charactersIn: ",")).split(separator: ".").last?.count
            #expect(digits == (key.hasSuffix("_psnr") ? 2 : 4), "\(key) \(value) in: \(text)")
        }
    }

    @Test func missingInputFailsButOthersAreDone() throws {
        let ws = try Workspace(["a.png": (4, 4)])
        defer { ws.remove() }
        let result = try ws.run(["a.png", "nope.png", "-o", "out"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("nope.png"), "\(result.stderr)")
        #expect(ws.exists("out/a.png"))
    }
}

@Suite struct CLIInterruptTests {
    @Test func sigintStopsPromptlyKeepsFinishedOutputsAndExits130() throws {
        let ws = try CLIRunTests.Workspace()
        defer { ws.remove() }
        // Enough work that it cannot finish in the half second before the signal: 6 files, TTA, tiny tiles.
        try ws.addPNG("in/0.png", 768, 768)
        let png = try #require(ws.data("in/0.png"))
        for k in 1..<6 { try ws.write("in/\(k).png", png) }
        let process = Process()
        let executable = try CLI.executable()
        process.executableURL = executable
        process.arguments = ["in", "-o", "out", "-m", ws.model, "--tta", "-t", "16", "-j", "1", "--json"]
        process.currentDirectoryURL = URL(fileURLWithPath: ws.root)
        _ = FileManager.default.createFile(atPath: ws.root + "/report.json", contents: nil)
        _ = FileManager.default.createFile(atPath: ws.root + "/stderr.txt", contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: ws.root + "/report.json")
        process.standardError = FileHandle(forWritingAtPath: ws.root + "/stderr.txt")
        try process.run()
        usleep(500_000)
        let signalled = Date()
        process.interrupt()  // SIGINT
        process.waitUntilExit()
        let stopSeconds = Date().timeIntervalSince(signalled)
        let stderr = String(decoding: ws.data("stderr.txt") ?? Data(), as: UTF8.self)
        #expect(process.terminationStatus == 130, "\(stderr)")
        // The report is printed only on the orderly path (not by the 3-second fallback exit).
        let report = try JSONDecoder().decode(BatchReport.self, from: try #require(ws.data("report.json")))
        #expect(report.interrupted && report.totals.cancelled >= 1 && report.totals.failed == 0)
        #expect(stopSeconds < 2.5, "took \(stopSeconds) s to stop")
        // Finished outputs are complete; nothing else (no temp files) is left in out/.
        let outputs = ws.listing().filter { $0.hasPrefix("out/") }
        #expect(outputs == report.files.filter { $0.status == .done }.map(\.output).sorted(), "\(ws.listing())")
        for output in outputs {
            #expect(ws.pngSize(output).map { [$0.width, $0.height] } == [1536, 1536])
        }
    }
}
