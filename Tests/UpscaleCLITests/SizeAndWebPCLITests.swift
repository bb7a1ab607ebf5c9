// The output size flags and WebP through the built binary: exact sizes, the model each request
// picks, the refusals (each a message naming the problem, no output), WebP from and to stdin.
import Foundation
import Testing
import UpscaleKit

@Suite struct SizeAndWebPCLITests {
    typealias Workspace = CLIRunTests.Workspace

    /// The decoded size of an image file or bytes (any format).
    static func size(_ bytes: Data?) throws -> [Int] {
        let bytes = try #require(bytes, "no output")
        let info = try ImageCodec.probe(bytes: [UInt8](bytes), name: "output")
        return [info.width, info.height]
    }

    /// `upscale ARGS` with the built-in models (no -m unless ARGS has it).
    static func run(_ ws: Workspace, _ arguments: [String], stdin: Data? = nil) throws -> CLIResult {
        try CLI.run(arguments, in: ws.root, stdin: stdin)
    }

    @Test(arguments: [
        (["--width", "50"], [50, 33]),              // 30×20 → ×1.667 (aspect kept: 33.3 → 33)
        (["--height", "70"], [105, 70]),            // ×3.5: the x4 model, reduced
        (["--outscale", "1.5"], [45, 30]),
        (["--outscale", "3"], [90, 60]),            // the x3 model, no resize
        (["--width", "40", "--height", "40"], [40, 40]),
        (["--resize", "100x"], [100, 67]),
        (["--resize", "x25"], [38, 25]),
        (["--resize", "60x100"], [60, 40]),         // fit inside: width limits
        (["--resize", "60x30!"], [60, 30]),
        (["--resize", "250%"], [75, 50]),
    ])
    func outputsHaveExactlyTheRequestedSize(_ flags: [String], _ expected: [Int]) throws {
        let ws = try Workspace(["a.png": (30, 20)])
        defer { ws.remove() }
        let result = try Self.run(ws, ["a.png", "-o", "out.png", "--verbose"] + flags)
        #expect(result.status == 0, "\(flags): \(result.stderr)")
        #expect(try Self.size(ws.data("out.png")) == expected, "\(flags)")
    }

    @Test func theSmallestBuiltInScaleThatReachesTheTargetRuns() throws {
        let ws = try Workspace(["a.png": (30, 20)])
        defer { ws.remove() }
        for (width, scale) in [(45, 2), (60, 2), (61, 3), (90, 3), (91, 4), (30, 2), (20, 2)] {
            let result = try Self.run(ws, ["a.png", "-o", "w\(width).png", "--width", "\(width)", "--verbose"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("a.png: model x\(scale)"), "--width \(width): \(result.stderr)")
        }
    }

    /// Without -o, the default name tells what was asked for, not the scale of the model that ran.
    @Test(arguments: [
        (["-m", "x4", "--outscale", "2"], "a_x2.png", [60, 40]),
        (["--outscale", "1.5"], "a_x1.5.png", [45, 30]),
        (["--width", "50"], "a_w50.png", [50, 33]),
        (["--height", "70"], "a_h70.png", [105, 70]),
        (["--resize", "60x30!"], "a_60x30.png", [60, 30]),
        ([], "a_x2.png", [60, 40]),
    ])
    func defaultNamesSayTheRequestedSize(_ flags: [String], _ name: String, _ expected: [Int]) throws {
        let ws = try Workspace(["a.png": (30, 20)])
        defer { ws.remove() }
        let result = try Self.run(ws, ["a.png"] + flags)
        #expect(result.status == 0, "\(flags): \(result.stderr)")
        #expect(try Self.size(ws.data(name)) == expected, "\(flags): \(name)")
    }

    @Test func aGivenModelRunsAndIsResized() throws {
        let ws = try Workspace(["a.png": (30, 20)])
        defer { ws.remove() }
        // -m x4 --outscale 2: the x4 model, then halved; the test model (x2) with --outscale 1.5.
        let x4 = try Self.run(ws, ["a.png", "-o", "x4.png", "-m", "x4", "--outscale", "2"])
        #expect(x4.status == 0, "\(x4.stderr)")
        #expect(try Self.size(ws.data("x4.png")) == [60, 40])
        let test = try ws.run(["a.png", "-o", "t.png", "--outscale", "1.5"])
        #expect(test.status == 0, "\(test.stderr)")
        #expect(try Self.size(ws.data("t.png")) == [45, 30])
        // A given model that does not reach the target is refused, not enlarged by the resampler.
        let short = try ws.run(["a.png", "-o", "short.png", "--outscale", "3"])
        #expect(short.status != 0 && !ws.exists("short.png"))
        #expect(short.stderr.contains("more than the model's ×2"), "\(short.stderr)")
    }

    @Test func resizedOutputsAreTheSameBytesForAnyTileSizeAndThreadCount() throws {
        let ws = try Workspace(["a.png": (45, 37)])
        defer { ws.remove() }
        var outputs: [Data] = []
        for (k, engine) in [["-t", "16", "-j", "1"], ["-t", "32", "-j", "3"], []].enumerated() {
            let result = try Self.run(ws, ["a.png", "-o", "out\(k).png", "--outscale", "1.7"] + engine)
            #expect(result.status == 0, "\(engine): \(result.stderr)")
            outputs.append(try #require(ws.data("out\(k).png")))
        }
        #expect(try Self.size(outputs[0]) == [77, 63])
        #expect(outputs[1] == outputs[0] && outputs[2] == outputs[0])
    }

    @Test func anAspectChangeOverOnePercentIsWarnedAbout() throws {
        let ws = try Workspace(["a.png": (30, 20)])
        defer { ws.remove() }
        let changed = try Self.run(ws, ["a.png", "-o", "sq.png", "--width", "40", "--height", "40"])
        #expect(changed.status == 0 && changed.stderr.contains("changes the 30×20 image's aspect ratio by 33%"), "\(changed.stderr)")
        let kept = try Self.run(ws, ["a.png", "-o", "k.png", "--width", "60", "--height", "40"])
        #expect(kept.status == 0 && !kept.stderr.contains("aspect ratio"), "\(kept.stderr)")
    }

    @Test(arguments: [
        (["--width", "0"], "--width must be at least 1"),
        (["--height=-5"], "--height must be at least 1"),
        (["--width", "wide"], "wide"),
        (["--outscale", "0"], "--outscale must be a number above 0"),
        (["--outscale", "nan"], "--outscale must be a number above 0"),
        (["--outscale", "x2"], "x2"),
        (["--outscale", "9"], "the largest built-in model is x4"),
        (["--resize", "3000y"], "--resize takes"),
        (["--resize", "0x"], "--resize takes"),
        (["--width", "50", "--outscale", "2"], "not several"),
    ])
    func badSizesAreRefusedBeforeAnyImageIsRead(_ flags: [String], _ message: String) throws {
        let ws = try Workspace(["a.png": (30, 20)])
        defer { ws.remove() }
        let result = try Self.run(ws, ["a.png", "-o", "out.png"] + flags)
        #expect(result.status != 0 && !ws.exists("out.png"))
        #expect(result.stderr.contains(message), "\(flags): \(result.stderr)")
    }

    @Test func targetsNoModelOrLimitAllowsAreRefusedPerFile() throws {
        let ws = try Workspace(["a.png": (30, 20)])
        defer { ws.remove() }
        let far = try Self.run(ws, ["a.png", "-o", "far.png", "--width", "200"])
        #expect(far.status == 1 && !ws.exists("far.png"))
        #expect(far.stderr.contains("×6.67, more than the largest built-in model (×4)"), "\(far.stderr)")
        let pixels = try Self.run(ws, ["a.png", "-o", "p.png", "--width", "100", "--max-pixels", "5000"])
        #expect(pixels.status == 1 && !ws.exists("p.png"))
        #expect(pixels.stderr.contains("more than the limit of 5000 pixels"), "\(pixels.stderr)")
    }

    @Test func webpOutputsAndInputsThroughFilesAndStdio() throws {
        let ws = try Workspace(["a.png": (30, 20)])
        defer { ws.remove() }
        // -f webp to stdout from stdin.
        let png = try #require(ws.data("a.png"))
        let piped = try Self.run(ws, ["-", "-f", "webp"], stdin: png)
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(ImageFormat.sniff([UInt8](piped.stdout.prefix(12))) == .webp)
        #expect(try Self.size(piped.stdout) == [60, 40])
        // A .webp name, lossless; read back as input, at -s 3.
        let lossless = try Self.run(ws, ["a.png", "-o", "b.webp", "--lossless"])
        #expect(lossless.status == 0, "\(lossless.stderr)")
        let again = try Self.run(ws, ["b.webp", "-s", "3"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.size(ws.data("b_x3.webp")) == [180, 120])
        // A .webp name holding a PNG is read as a PNG.
        try ws.write("png-inside.webp", png)
        let disguised = try Self.run(ws, ["png-inside.webp", "-o", "d.png"])
        #expect(disguised.status == 0, "\(disguised.stderr)")
        #expect(try Self.size(ws.data("d.png")) == [60, 40])
    }

    @Test func webpOutputsOverItsSizeLimitOrTheBudgetAreRefusedBeforeTheRun() throws {
        let ws = try Workspace(["wide.png": (4100, 2)])
        defer { ws.remove() }
        let big = try Self.run(ws, ["wide.png", "-o", "wide.webp", "-m", "x4"])
        #expect(big.status == 1 && !ws.exists("wide.webp"))
        #expect(big.stderr.contains("too large for WebP") && big.stderr.contains("write PNG instead"), "\(big.stderr)")
        // The whole picture libwebp encodes from counts in the estimate: a budget PNG fits in refuses WebP.
        // 1600×1200 out: the model about 49 MB, libwebp 81 MB more (44 bytes per pixel), PNG on one thread none.
        let ws2 = try Workspace(["a.png": (800, 600)])
        defer { ws2.remove() }
        let png = try ws2.run(["a.png", "-o", "a.png.png", "--max-memory", "64M", "-j", "1"])
        #expect(png.status == 0, "\(png.stderr)")
        let webp = try ws2.run(["a.png", "-o", "a.webp", "--max-memory", "64M", "--lossless", "-j", "1"])
        #expect(webp.status == 1 && !ws2.exists("a.webp"))
        #expect(webp.stderr.contains("encoder") && webp.stderr.contains("over the memory budget"), "\(webp.stderr)")
    }
}
