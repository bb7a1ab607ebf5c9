// Seeded mutation fuzzing (issue 15, "Fuzzing in the test suite"): the sample PNGs and JPEGs
// (samples/) and a model file (models/x2.bin), each mutated by bit flips, truncations, chunk and
// marker splices and size-field edits, a few thousand cases in all.
//
//   in process   every case either decodes (all its rows, under the memory budget) or throws a
//                typed error (ImageIOError, ModelError); an image over the budget is refused by
//                the same estimate the CLI runs, before any image-sized allocation
//   CLI batch    a few hundred cases through one `upscale` process with --max-memory 128M: it
//                exits 0 or 1 (never a signal: no trap, no abort), its peak resident memory
//                (VmHWM) stays within the budget above an unmutated run's, and the output folder
//                holds exactly the outputs reported done (no output or temporary file of a
//                failed case)
//
// Every case is named by seed, index, source file and mutation, and a failure prints them; the
// seed is printed once per run. UPSCALE_FUZZ_SEED=N replays a run. A trap in process kills the
// test runner: the CLI batch finds the same cases by running them one by one in child processes.
import Foundation
import Testing
import UpscaleKit
#if canImport(Glibc)
import Glibc
#endif

/// A small seeded generator (64-bit LCG, high bits): the same cases on every machine.
struct FuzzRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed &* 6364136223846793005 &+ 1442695040888963407 }
    mutating func next(_ bound: Int) -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int((state >> 33) % UInt64(max(1, bound)))
    }
    mutating func pick<T>(_ values: [T]) -> T { values[next(values.count)] }
}

/// One mutated file: its bytes and how they were made.
struct FuzzCase: CustomStringConvertible {
    var seed: UInt64, index: Int, source: String, mutation: String
    var bytes: [UInt8]
    var description: String { "seed \(seed) case \(index) (\(source): \(mutation))" }
}

enum Mutator {
    static let samplesDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("samples").path
    static let modelPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("models/x2.bin").path
    static let samples = ["astronaut.png", "camera.png", "chelsea.png", "coffee.jpg", "rocket.jpg"]

    static let seed: UInt64 = {
        let seed = ProcessInfo.processInfo.environment["UPSCALE_FUZZ_SEED"].flatMap { UInt64($0) } ?? 20261202
        print("fuzz seed \(seed) (replay with UPSCALE_FUZZ_SEED=\(seed))")
        return seed
    }()

    static func read(_ path: String) throws -> [UInt8] {
        [UInt8](try #require(FileManager.default.contents(atPath: path), "cannot read \(path)"))
    }

    /// `count` cases of `source` (a sample name or "x2.bin"), case i from its own generator.
    static func cases(_ source: String, count: Int, first: Int = 0) throws -> [FuzzCase] {
        let isModel = source.hasSuffix(".bin")
        let bytes = try read(isModel ? modelPath : samplesDir + "/" + source)
        let isPNG = source.hasSuffix(".png")
        let other = try read(samplesDir + "/" + (isPNG ? "camera.png" : "rocket.jpg"))   // splice donor
        return (first..<(first + count)).map { i in
            var random = FuzzRandom(seed: seed &+ UInt64(i) &* 0x9E37_79B9 &+ UInt64(samples.firstIndex(of: source) ?? 7) << 40)
            let (mutated, what) = isModel ? model(bytes, &random) : isPNG ? png(bytes, other, &random) : jpeg(bytes, other, &random)
            return FuzzCase(seed: seed, index: i, source: source, mutation: what, bytes: mutated)
        }
    }

    // MARK: Generic

    static func flips(_ bytes: [UInt8], in range: Range<Int>, _ r: inout FuzzRandom) -> ([UInt8], String) {
        var out = bytes
        var at: [Int] = []
        for _ in 0..<(1 + r.next(4)) {
            let bit = range.lowerBound * 8 + r.next(range.count * 8)
            out[bit / 8] ^= UInt8(1 << (bit % 8))
            at.append(bit)
        }
        return (out, "bit flips at \(at)")
    }

    static func truncate(_ bytes: [UInt8], _ r: inout FuzzRandom) -> ([UInt8], String) {
        // Half the cuts in the first 2 KB, where the headers are.
        let length = r.next(2) == 0 ? r.next(min(2048, bytes.count)) : r.next(bytes.count)
        return (Array(bytes[0..<length]), "truncated to \(length) bytes")
    }

    static let interestingSizes: [UInt32] = [0, 1, 2, 7, 8, 9, 255, 256, 4097, 30000, 65535, 65536, 0x7FFF_FFFF, 0xFFFF_FFFF]

    // MARK: PNG: chunks of (length, type, data, CRC)

    static func pngChunks(_ b: [UInt8]) -> [Range<Int>] {
        var found: [Range<Int>] = []
        var at = 8
        while at + 12 <= b.count {
            let length = Int(b[at]) << 24 | Int(b[at + 1]) << 16 | Int(b[at + 2]) << 8 | Int(b[at + 3])
            guard at + 12 + length <= b.count else { break }
            found.append(at..<(at + 12 + length))
            at += 12 + length
        }
        return found
    }

    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// Rewrites the CRC of the chunk at `chunk` after its data changed.
    static func fixCRC(_ b: inout [UInt8], _ chunk: Range<Int>) {
        let crc = crc32(b[(chunk.lowerBound + 4)..<(chunk.upperBound - 4)])
        for k in 0..<4 { b[chunk.upperBound - 4 + k] = UInt8(crc >> (24 - 8 * UInt32(k)) & 0xFF) }
    }

    static func png(_ b: [UInt8], _ donor: [UInt8], _ r: inout FuzzRandom) -> ([UInt8], String) {
        let chunks = pngChunks(b)
        switch r.next(7) {
        case 0: return flips(b, in: 0..<b.count, &r)
        case 1:  // flips inside one chunk's data with its CRC fixed, so libpng reads on
            let chunk = r.pick(chunks)
            guard chunk.count > 12 else { return flips(b, in: 0..<b.count, &r) }
            var (out, what) = flips(b, in: (chunk.lowerBound + 8)..<(chunk.upperBound - 4), &r)
            fixCRC(&out, chunk)
            return (out, what + " in chunk at \(chunk.lowerBound), CRC fixed")
        case 2: return truncate(b, &r)
        case 3:  // chunk splice: drop, repeat, or bring in one of the donor's
            let chunk = r.pick(chunks)
            switch r.next(3) {
            case 0: return (Array(b[..<chunk.lowerBound] + b[chunk.upperBound...]), "chunk at \(chunk.lowerBound) removed")
            case 1: return (Array(b[..<chunk.upperBound] + b[chunk] + b[chunk.upperBound...]), "chunk at \(chunk.lowerBound) repeated")
            default:
                let extra = r.pick(pngChunks(donor))
                return (Array(b[..<chunk.lowerBound] + donor[extra] + b[chunk.lowerBound...]),
                        "donor chunk \(extra) inserted at \(chunk.lowerBound)")
            }
        case 4, 5:  // IHDR edits (CRC fixed): width, height, interlace, bit depth, colour type
            var out = b
            let ihdr = chunks[0]
            let field = r.next(4)
            let value = r.pick(interestingSizes)
            switch field {
            case 0, 1:
                for k in 0..<4 { out[ihdr.lowerBound + 8 + field * 4 + k] = UInt8(value >> (24 - 8 * UInt32(k)) & 0xFF) }
            case 2: out[ihdr.lowerBound + 20] = UInt8(value & 1)     // interlace
            default: out[ihdr.lowerBound + 16 + r.next(2)] = UInt8(value & 0x1F)  // bit depth or colour type
            }
            out[ihdr.lowerBound + 20] = r.next(2) == 0 ? 1 : out[ihdr.lowerBound + 20]  // often Adam7: the whole-image path
            fixCRC(&out, ihdr)
            return (out, "IHDR field \(field) = \(value), interlace \(out[ihdr.lowerBound + 20])")
        default:  // a chunk's length field
            var out = b
            let chunk = r.pick(chunks)
            let value = r.pick(interestingSizes)
            for k in 0..<4 { out[chunk.lowerBound + k] = UInt8(value >> (24 - 8 * UInt32(k)) & 0xFF) }
            return (out, "length of chunk at \(chunk.lowerBound) = \(value)")
        }
    }

    // MARK: JPEG: segments (FF xx, 2-byte length) up to SOS

    static func jpegSegments(_ b: [UInt8]) -> [Range<Int>] {
        var found: [Range<Int>] = []
        var at = 2
        while at + 4 <= b.count, b[at] == 0xFF, b[at + 1] != 0xDA {
            let end = at + 2 + (Int(b[at + 2]) << 8 | Int(b[at + 3]))
            guard end <= b.count else { break }
            found.append(at..<end)
            at = end
        }
        return found
    }

    static func jpeg(_ b: [UInt8], _ donor: [UInt8], _ r: inout FuzzRandom) -> ([UInt8], String) {
        let segments = jpegSegments(b)
        switch r.next(7) {
        case 0: return flips(b, in: 0..<b.count, &r)
        case 1: return flips(b, in: 0..<min(b.count, segments.last?.upperBound ?? 600), &r)   // the headers
        case 2: return truncate(b, &r)
        case 3:
            let segment = r.pick(segments)
            switch r.next(4) {
            case 0: return (Array(b[..<segment.lowerBound] + b[segment.upperBound...]), "segment at \(segment.lowerBound) removed")
            case 1: return (Array(b[..<segment.upperBound] + b[segment] + b[segment.upperBound...]), "segment at \(segment.lowerBound) repeated")
            case 2:
                let extra = r.pick(jpegSegments(donor))
                return (Array(b[..<segment.lowerBound] + donor[extra] + b[segment.lowerBound...]),
                        "donor segment \(extra) inserted at \(segment.lowerBound)")
            default:  // an EXIF orientation: the rotated path
                let o = 1 + r.next(9)
                let tiff: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, UInt8(o), 0, 0, 0, 0, 0, 0]
                let payload = Array("Exif".utf8) + [0, 0] + tiff
                return (Array(b[0..<2]) + [0xFF, 0xE1, 0, UInt8(payload.count + 2)] + payload + Array(b[2...]), "EXIF orientation \(o)")
            }
        case 4, 5:  // frame header edits: height, width, components; SOF0 → SOF2 (progressive)
            var out = b
            guard let sof = segments.first(where: { (0xC0...0xC2).contains(b[$0.lowerBound + 1]) }) else { return truncate(b, &r) }
            let value = r.pick(interestingSizes)
            let field = r.next(4)
            switch field {
            case 0, 1:
                out[sof.lowerBound + 5 + 2 * field] = UInt8(value >> 8 & 0xFF)
                out[sof.lowerBound + 6 + 2 * field] = UInt8(value & 0xFF)
            case 2: out[sof.lowerBound + 9] = UInt8(value & 0xFF)
            default: out[sof.lowerBound + 1] = 0xC2
            }
            if r.next(2) == 0 {   // and often an EXIF rotation on top
                let tiff: [UInt8] = [0x49, 0x49, 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0]
                let payload = Array("Exif".utf8) + [0, 0] + tiff
                out = Array(out[0..<2]) + [0xFF, 0xE1, 0, UInt8(payload.count + 2)] + payload + Array(out[2...])
                return (out, "SOF field \(field) = \(value), EXIF orientation 6")
            }
            return (out, "SOF field \(field) = \(value)")
        default:  // a segment's length field
            var out = b
            let segment = r.pick(segments)
            let value = r.pick(interestingSizes)
            out[segment.lowerBound + 2] = UInt8(value >> 8 & 0xFF)
            out[segment.lowerBound + 3] = UInt8(value & 0xFF)
            return (out, "length of segment at \(segment.lowerBound) = \(value & 0xFFFF)")
        }
    }

    // MARK: Model: 8-byte header length, JSON header, tensor data

    static func model(_ b: [UInt8], _ r: inout FuzzRandom) -> ([UInt8], String) {
        var headerEnd = 8
        for i in 0..<8 { headerEnd += Int(b[i]) << (8 * i) }
        switch r.next(5) {
        case 0: return flips(b, in: 0..<b.count, &r)
        case 1: return flips(b, in: 0..<headerEnd, &r)
        case 2: return truncate(b, &r)
        case 3:  // a number of the JSON header (shapes, data offsets, metadata) replaced
            var out = b
            let digits = (8..<headerEnd).filter { (0x30...0x39).contains(b[$0]) }
            guard !digits.isEmpty else { return truncate(b, &r) }
            let at = r.pick(digits)
            let replacement = Array(String(r.pick([0, 1, 2, 9, 65535, 1 << 20, 1 << 31, Int(Int32.max), 4_000_000_000])).utf8)
            var end = at
            while end < headerEnd, (0x30...0x39).contains(b[end]) { end += 1 }
            var start = at
            while start > 8, (0x30...0x39).contains(b[start - 1]) { start -= 1 }
            out.replaceSubrange(start..<end, with: replacement)
            let newLength = headerEnd - 8 + replacement.count - (end - start)
            for i in 0..<8 { out[i] = UInt8(newLength >> (8 * i) & 0xFF) }
            return (out, "header number at \(start) = \(String(decoding: replacement, as: UTF8.self))")
        default:  // the header length itself
            var out = b
            let value = r.pick([0, 1, 7, headerEnd - 9, headerEnd - 7, b.count, 1 << 31, Int(UInt32.max)])
            for i in 0..<8 { out[i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
            return (out, "header length = \(value)")
        }
    }
}

@Suite struct FuzzTests {
    static let budget = 128 << 20

    /// Every case of a sample through the streaming reader: it decodes (every row) or throws a
    /// typed error; an image the estimate puts over the budget is refused before reading.
    @Test(arguments: Mutator.samples)
    func mutatedImagesDecodeOrThrow(sample: String) throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var decode = DecodeOptions()
        decode.maxMemory = Self.budget
        let model = try TestModel.make()   // nearest-neighbour ×2: the network costs nothing next to the codecs
        var outcomes = [String: Int]()
        for c in try Mutator.cases(sample, count: 500) {
            let path = dir + "/case" + (sample.hasSuffix(".png") ? ".png" : ".jpg")
            try Data(c.bytes).write(to: URL(fileURLWithPath: path))
            do {
                let info = try ImageCodec.probe(path: path, options: decode)
                let estimate = model.memoryEstimate(for: info, run: RunOptions(), format: .png,
                                                        encode: EncodeOptions.upscaleOutput(pixels: 4 * info.width * info.height))
                try estimate.check(budget: Self.budget, path: path, size: (info.width, info.height))
                let reader = try ImageCodec.openStreamReader(path: path, options: decode)
                #expect(reader.wholeImageBytes <= Self.budget, "\(c): holds \(reader.wholeImageBytes) bytes")
                var rows = 0
                while let band = try reader.readBand(maxRows: 64) { rows += band.rows }
                #expect(rows == reader.height && reader.height == info.height, "\(c): \(rows) rows of \(reader.height)")
                outcomes["decoded", default: 0] += 1
            } catch let error as ImageIOError {
                #expect(error.path == path, "\(c): the error names \(error.path)")
                outcomes[error.kind == .overMemoryBudget ? "over budget" : error.kind == .overPixelLimit ? "over pixels" : "refused",
                         default: 0] += 1
            } catch {
                Issue.record("\(c): threw \(type(of: error)) \(error), not an ImageIOError")
            }
        }
        print("fuzz \(sample): \(outcomes.sorted { $0.key < $1.key })")
        #expect(outcomes["decoded", default: 0] > 0 && outcomes["refused", default: 0] > 0, "the mutations reach both outcomes")
    }

    @Test func mutatedModelsLoadOrThrow() throws {
        var outcomes = [String: Int]()
        for c in try Mutator.cases("x2.bin", count: 1000) {
            do {
                let model = try Model(bytes: c.bytes, name: "fuzz.bin")
                #expect(model.scale >= 1, "\(c)")
                outcomes["loaded", default: 0] += 1
            } catch let error as ModelError {
                #expect(error.message.contains("fuzz.bin"), "\(c): \(error.message)")
                outcomes["refused", default: 0] += 1
            } catch {
                Issue.record("\(c): threw \(type(of: error)) \(error), not a ModelError")
            }
        }
        print("fuzz x2.bin: \(outcomes.sorted { $0.key < $1.key })")
        #expect(outcomes["refused", default: 0] > 0 && outcomes["loaded", default: 0] > 0)
    }

    /// A few hundred cases as one batch of the CLI, measured from outside.
    @Test func mutatedBatchThroughTheCLIStaysInBudgetAndLeavesOnlyFinishedOutputs() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TestModel.write(to: dir + "/model.bin")
        try FileManager.default.createDirectory(atPath: dir + "/in", withIntermediateDirectories: true)
        var cases: [String: FuzzCase] = [:]
        for sample in Mutator.samples {
            for c in try Mutator.cases(sample, count: 40, first: 10_000) {
                let name = String(format: "%@-%05d.%@", (sample as NSString).deletingPathExtension, c.index,
                                  sample.hasSuffix(".png") ? "png" : "jpg")
                try Data(c.bytes).write(to: URL(fileURLWithPath: dir + "/in/" + name))
                cases[name] = c
            }
        }
        // An unmutated file first: the resident memory of the process itself.
        try FileManager.default.copyItem(atPath: Mutator.samplesDir + "/astronaut.png", toPath: dir + "/plain.png")
        let plain = try Spawned.run([dir + "/plain.png", "-o", dir + "/plain_x2.png", "-m", dir + "/model.bin", "-j", "2"], in: dir)
        #expect(plain.status == 0 && plain.signal == nil, "\(plain.stderr)")
        let budgetArgument = "\(Self.budget >> 20)M"
        let batch = try Spawned.run([dir + "/in", "-o", dir + "/out", "-m", dir + "/model.bin", "-j", "2",
                                     "--max-memory", budgetArgument, "--json"], in: dir)
        if let signal = batch.signal {
            // Find the case: each file alone.
            for name in cases.keys.sorted() {
                let one = try Spawned.run([dir + "/in/" + name, "-o", dir + "/one/" + name, "-m", dir + "/model.bin",
                                           "--max-memory", budgetArgument, "--overwrite"], in: dir)
                if let s = one.signal { Issue.record("\(cases[name]!): the CLI died of signal \(s)\n\(one.stderr)") }
            }
            Issue.record("the batch died of signal \(signal)")
            return
        }
        #expect(batch.status == 0 || batch.status == 1, "\(batch.stderr)")
        #expect(batch.maxRSS <= plain.maxRSS + Self.budget,
                "peak resident \(batch.maxRSS >> 20) MB, over the unmutated run's \(plain.maxRSS >> 20) MB + the \(Self.budget >> 20) MB budget")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(batch.stdout.utf8)) as? [String: Any], "\(batch.stdout)")
        let files = try #require(report["files"] as? [[String: Any]])
        let done = Set(files.filter { $0["status"] as? String == "done" }.compactMap { ($0["output"] as? String).map { ($0 as NSString).lastPathComponent } })
        let written = Set((try? FileManager.default.contentsOfDirectory(atPath: dir + "/out")) ?? [])
        #expect(written == done, "outputs not reported done (or reported done and missing): \(written.symmetricDifference(done).sorted().map { "\($0) \(cases[$0].map(\.description) ?? "")" })")
        #expect(files.count == cases.count)
        print("fuzz CLI batch: \(done.count) done, \(files.count - done.count) failed, peak \(batch.maxRSS >> 20) MB (unmutated \(plain.maxRSS >> 20) MB)")
    }
}

/// Output-side cases (issue 24): whatever stands at an output path, one batch through the CLI per
/// existing-output policy. Each case is an input whose output name is plain or carries control
/// characters, and whose output path holds nothing, a regular file, a character device (a copy of
/// /dev/null's 1,3, made here), a FIFO, a dangling symbolic link, a link to a file or a link to a
/// folder. Only a regular file is ever written or replaced; every other node is left exactly as
/// it was, the file a link points to too; the JSON report names each output exactly; no
/// temporary file is left.
@Suite struct OutputSideFuzzTests {
    enum Node: String, CaseIterable { case free, regular, device, fifo, dangling, linkToFile, linkToFolder }

    static let decorations = ["", "\u{1}", "\t", "\n", "\r", "\u{1B}[2J", "\u{1B}]0;pwned\u{7}", "\u{7F}", "\u{9B}"]

    @Test(arguments: [ExistingOutputPolicy.refuse, .overwrite, .skip])
    func onlyRegularFilesAreWrittenOrReplaced(policy: ExistingOutputPolicy) throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try TestModel.write(to: dir + "/model.bin")
        for sub in ["in", "out", "elsewhere/folder"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
        }
        let target = dir + "/elsewhere/target.png", targetBytes = Data("the file a link points to".utf8)
        try targetBytes.write(to: URL(fileURLWithPath: target))
        let canMknod = CLIOutputTargetTests.makeCharacterDevice(dir + "/probe-node")
        if !canMknod { print("OutputSideFuzzTests: mknod is not permitted here; device cases become FIFOs") }
        unlink(dir + "/probe-node")

        var r = FuzzRandom(seed: Mutator.seed ^ 0x07E57)
        var cases: [(name: String, node: Node)] = []
        for k in 0..<(3 * Node.allCases.count) {
            var node = Node.allCases[k % Node.allCases.count]
            if node == .device && !canMknod { node = .fifo }
            let name = String(format: "%02d", k) + r.pick(Self.decorations) + "x.png"
            cases.append((name, node))
            try TinyPNG.rgb(width: 4, height: 4, pixels: TinyPNG.pattern(width: 4, height: 4, seed: k))
                .write(to: URL(fileURLWithPath: dir + "/in/" + name))
            let out = dir + "/out/" + name
            switch node {
            case .free: break
            case .regular: try Data("old".utf8).write(to: URL(fileURLWithPath: out))
            case .device: #expect(CLIOutputTargetTests.makeCharacterDevice(out))
            case .fifo: #expect(mkfifo(out, 0o644) == 0)
            case .dangling: #expect(symlink("../elsewhere/missing.png", out) == 0)
            case .linkToFile: #expect(symlink("../elsewhere/target.png", out) == 0)
            case .linkToFolder: #expect(symlink("../elsewhere/folder", out) == 0)
            }
        }
        let before = cases.map { CLIOutputTargetTests.fingerprint(dir + "/out/" + $0.name) }
        let flags = policy == .overwrite ? ["--overwrite"] : policy == .skip ? ["--skip-existing"] : []
        let result = try CLI.run(["in", "-o", "out", "--json", "-m", "model.bin"] + flags, in: dir)
        #expect(result.status == 1, "\(policy): \(result.stderr)")
        let report = try JSONDecoder().decode(BatchReport.self, from: result.stdout)
        for (k, c) in cases.enumerated() {
            let label = "seed \(Mutator.seed) case \(k) \(c.node) \(c.name.debugDescription) \(policy)"
            let file = try #require(report.files.first { $0.input == "in/" + c.name }, "\(label): not in the report")
            #expect(file.output == "out/" + c.name, "\(label): \(file.output.debugDescription)")
            let path = dir + "/out/" + c.name
            let written = FileManager.default.contents(atPath: path).flatMap(TinyPNG.size).map { [$0.width, $0.height] } == [8, 8]
            switch (c.node, policy) {
            case (.free, _), (.regular, .overwrite):
                #expect(file.status == .done && written, "\(label): \(file.status) \(file.message ?? "")")
            case (.regular, .skip):
                #expect(file.status == .skipped && FileManager.default.contents(atPath: path) == Data("old".utf8), "\(label)")
            case (.regular, .refuse):
                #expect(file.status == .failed && FileManager.default.contents(atPath: path) == Data("old".utf8), "\(label)")
            default:
                #expect(file.status == .failed, "\(label): \(file.status)")
                #expect(CLIOutputTargetTests.fingerprint(path) == before[k], "\(label): the node was replaced")
            }
        }
        #expect(FileManager.default.contents(atPath: target) == targetBytes)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir + "/elsewhere/folder")) ?? ["?"]).isEmpty)
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/out")) ?? []).filter { $0.hasPrefix(".") }
        #expect(left.isEmpty, "temporary files left: \(left)")
    }
}
