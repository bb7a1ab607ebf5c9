import Foundation
import Testing
@testable import UpscaleKit

/// A fresh temporary folder with the given files (relative paths; folders made as needed).
func makeTree(_ files: [String], contents: String = "x") throws -> String {
    let root = NSTemporaryDirectory() + "upscale-batch-\(UUID().uuidString)"
    for file in files {
        let path = root + "/" + file
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
    }
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    return root
}

@Suite struct InputDiscoveryTests {
    @Test func folderTakesImagesOfAnyCaseSortedAndNotesTheRest() throws {
        let root = try makeTree(["a.png", "B.JPG", "c.jpeg", "d.txt", "sub/e.png", ".hidden.png"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let found = InputDiscovery.discover([root], recursive: false)
        #expect(found.inputs.map(\.relativePath) == ["B.JPG", "a.png", "c.jpeg"])  // byte order: B < a
        #expect(found.inputs.allSatisfy { $0.fromFolder })
        #expect(found.notes.contains { $0.contains("d.txt") })
        #expect(found.notes.contains { $0.contains("sub") && $0.contains("-r") })
        #expect(found.sawFolder && found.errors.isEmpty)
    }

    @Test func recursiveWalksSubfoldersAndSurvivesSymlinkLoops() throws {
        let root = try makeTree(["a.png", "sub/e.png", "sub/deeper/f.jpg"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createSymbolicLink(atPath: root + "/sub/loop", withDestinationPath: root)
        let found = InputDiscovery.discover([root], recursive: true)
        #expect(found.inputs.map(\.relativePath) == ["a.png", "sub/deeper/f.jpg", "sub/e.png"])
        #expect(found.notes.contains { $0.contains("loop") })
    }

    @Test func outputFolderInsideInputIsNeverRead() throws {
        let root = try makeTree(["a.png", "out/a.png", "out/sub/b.png"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let found = InputDiscovery.discover([root], recursive: true, excluding: [root + "/out/"])
        #expect(found.inputs.map(\.relativePath) == ["a.png"])
    }

    @Test func outputFolderEqualToTheInputIsReadAndEachOutputRefused() throws {
        let root = try makeTree(["a.png"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let found = InputDiscovery.discover([root], recursive: true, excluding: [root])
        #expect(found.inputs.map(\.relativePath) == ["a.png"])
        let jobs = try OutputPlanner(scale: 2, outputArgument: root, format: nil, existing: .overwrite)
            .plan(found.inputs, batch: true)
        #expect(jobs[0].refusal?.kind == .outputIsInput, "\(jobs)")
        #expect(jobs[0].refusal?.description.contains("is the input itself") == true, "\(jobs)")
    }

    @Test func missingArgumentIsAnErrorAndTheRestGoesOn() throws {
        let root = try makeTree(["a.png"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let found = InputDiscovery.discover([root + "/nope.png", root + "/a.png", root + "/a.png"], recursive: false)
        #expect(found.inputs.map(\.path) == [root + "/a.png"])  // duplicates dropped
        #expect(found.errors.count == 1 && found.errors[0].description.contains("nope.png"))
        #expect(!found.sawFolder)
    }
}

@Suite struct OutputPlannerTests {
    func input(_ path: String, _ rel: String? = nil, folder: Bool = false) -> BatchInput {
        BatchInput(path: path, relativePath: rel ?? (path as NSString).lastPathComponent, fromFolder: folder)
    }
    func planner(_ out: String?, format: ImageFormat? = nil, existing: ExistingOutputPolicy = .refuse,
                 present: Set<String> = [], dirs: Set<String> = []) -> OutputPlanner {
        OutputPlanner(scale: 3, outputArgument: out, format: format, existing: existing,
                      fileExists: { present.contains($0) || dirs.contains($0) }, isDirectory: { dirs.contains($0) })
    }

    @Test func singleFileDefaultNameIsBesideTheInput() throws {
        let jobs = try planner(nil).plan([input("pics/cat.JPG")], batch: false)
        #expect(jobs == [BatchJob(input: input("pics/cat.JPG"), output: "pics/cat_x3.JPG", format: .jpeg)])
        let bare = try planner(nil, format: .png).plan([input("cat.jpg")], batch: false)
        #expect(bare[0].output == "cat_x3.png" && bare[0].format == .png)
    }

    @Test func singleFileFormatComesFromFlagThenOutputThenInput() throws {
        #expect(try planner("big.jpg").plan([input("a.png")], batch: false)[0].format == .jpeg)
        #expect(try planner("big.jpg", format: .png).plan([input("a.png")], batch: false)[0].format == .png)
        #expect(try planner("big").plan([input("a.png")], batch: false)[0].format == .png)
        #expect(try planner("outdir", dirs: ["outdir"]).plan([input("a.png")], batch: false)[0].output == "outdir/a_x3.png")
        #expect(try planner("big.webp").plan([input("a.png")], batch: false)[0].format == .webp)
        #expect(throws: BatchError.self) { try planner("big.gif").plan([input("a.png")], batch: false) }
    }

    @Test func batchMirrorsRelativePathsAndRequiresAFolderForFolders() throws {
        let jobs = try planner("out", format: .png).plan(
            [input("in/sub/a.jpg", "sub/a.jpg", folder: true), input("b.png")], batch: true)
        #expect(jobs.map(\.output) == ["out/sub/a.png", "out/b.png"])
        #expect(throws: BatchError.self) {
            try planner(nil).plan([input("in/a.png", "a.png", folder: true)], batch: true)
        }
        #expect(throws: BatchError.self) {
            try planner("file.png", present: ["file.png"]).plan([input("a.png"), input("b.png")], batch: true)
        }
        // Several files without -o: each beside its input.
        #expect(try planner(nil).plan([input("x/a.png"), input("y/b.png")], batch: true).map(\.output)
                == ["x/a_x3.png", "y/b_x3.png"])
    }

    @Test func twoInputsWritingOneOutputAreBothRefusedByName() throws {
        let jobs = try planner("out", format: .png).plan([input("d/a.jpg"), input("d/a.png"), input("d/b.png")], batch: true)
        #expect(jobs[0].refusal != nil && jobs[1].refusal != nil && jobs[2].refusal == nil)
        let message = try #require(jobs[0].refusal).description
        #expect(jobs[1].refusal?.kind == .sharedOutput)
        #expect(message.contains("d/a.jpg") && message.contains("d/a.png") && message.contains("out/a.png"))
    }

    @Test(arguments: [ExistingOutputPolicy.refuse, .skip, .overwrite])
    func existingOutputFollowsThePolicy(policy: ExistingOutputPolicy) throws {
        let job = try planner("big.png", existing: policy, present: ["big.png"]).plan([input("a.png")], batch: false)[0]
        switch policy {
        case .refuse:
            let message = try #require(job.refusal).description
            #expect(job.refusal?.kind == .outputExists)
            #expect(message.contains("big.png") && message.contains("--overwrite") && message.contains("--skip-existing"))
        case .skip: #expect(job.skip && job.refusal == nil)
        case .overwrite: #expect(!job.skip && job.refusal == nil)
        }
    }

    @Test func anOutputThatIsAnInputByDeviceAndInodeIsRefusedUnlessSkipped() throws {
        // a.png's output a_x3.png is the file b/link.png names: one inode, two names.
        let ids: [String: FileIdentity] = ["a.png": FileIdentity(device: 1, inode: 10),
                                           "a_x3.png": FileIdentity(device: 1, inode: 20),
                                           "b/link.png": FileIdentity(device: 1, inode: 20)]
        func plan(_ policy: ExistingOutputPolicy) throws -> [BatchJob] {
            try OutputPlanner(scale: 3, outputArgument: nil, format: nil, existing: policy,
                              fileExists: { ids[$0] != nil }, isDirectory: { _ in false }, identity: { ids[$0] })
                .plan([input("a.png"), input("b/link.png")], batch: true)
        }
        for policy in [ExistingOutputPolicy.refuse, .overwrite] {
            let message = try #require(try plan(policy)[0].refusal, "\(policy)").description
            #expect(message.contains("a_x3.png, the output of a.png, is the input b/link.png under another name"), "\(message)")
        }
        let skipped = try plan(.skip)[0]
        #expect(skipped.skip && skipped.refusal == nil)
    }

    @Test func foldersWhereAFileIsExpectedAreRefused() throws {
        let folder = try planner(nil, existing: .skip, dirs: ["a_x3.png"]).plan([input("a.png")], batch: false)[0]
        #expect(folder.refusal?.kind == .outputIsFolder && !folder.skip, "\(folder)")
        #expect(folder.refusal?.description.contains("a_x3.png is a folder") == true)
        #expect(throws: BatchError.self) { try planner("out/").plan([input("-")], batch: false) }
        #expect(throws: BatchError.self) { try planner("out", dirs: ["out"]).plan([input("-")], batch: false) }
        #expect(throws: BatchError.self) { try planner("out.png").plan([input("a.png"), input("b.png")], batch: true) }
        // An existing folder, or a trailing slash, says a folder is meant.
        #expect(try planner("out.png", dirs: ["out.png"]).plan([input("a.png"), input("b.png")], batch: true).count == 2)
        #expect(try planner("out.png/").plan([input("a.png"), input("b.png")], batch: true)[0].output == "out.png/a.png")
        let long = String(repeating: "n", count: 249)  // output name: 249 + "_x3.png" = 256 bytes
        #expect(try planner(nil).plan([input(long + ".png")], batch: false)[0].refusal?.description.contains("256 bytes") == true)
        #expect(try planner(nil).plan([input(String(long.dropFirst()) + ".png")], batch: false)[0].refusal == nil)
    }

    @Test func stdinGoesToStdoutUnlessToldOtherwise() throws {
        let job = try planner(nil, format: .jpeg).plan([input("-")], batch: false)[0]
        #expect(job.output == "-" && job.format == .jpeg)
        #expect(try planner(nil).plan([input("-")], batch: false)[0].format == nil)  // sniffed later
        #expect(throws: BatchError.self) { try planner("out").plan([input("-"), input("a.png")], batch: true) }
    }
}

@Suite struct ShardTests {
    @Test(arguments: [0, 1, 2, 5, 7, 23])
    func partsCoverEveryItemExactlyOnceAndStayBalanced(itemCount: Int) throws {
        let items = Array(0..<itemCount)
        for n in 1...6 {
            let parts = try (1...n).map { try Shard(index: $0, count: n).select(items) }
            #expect(parts.flatMap { $0 }.sorted() == items, "n=\(n)")
            let sizes = parts.map(\.count)
            #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1, "n=\(n) sizes=\(sizes)")
        }
    }

    @Test func parsingAcceptsOneBasedAndRejectsTheRest() throws {
        #expect(try Shard(parsing: "2/8") == Shard(index: 2, count: 8))
        for bad in ["0/3", "4/3", "1/0", "x", "1/2/3", "/3", "-1/3"] {
            #expect(throws: BatchError.self, "\(bad)") { try Shard(parsing: bad) }
        }
    }
}

@Suite struct ModelSourceTests {
    let names = ["x2", "x3", "x4"]

    @Test func resolvesNamesFilesAndScales() throws {
        #expect(try ModelSource.resolve(model: nil, scale: nil, builtinNames: names, fileExists: { _ in false }) == .builtin("x2"))
        #expect(try ModelSource.resolve(model: nil, scale: 4, builtinNames: names, fileExists: { _ in false }) == .builtin("x4"))
        #expect(try ModelSource.resolve(model: "x3.bin", scale: nil, builtinNames: names, fileExists: { _ in false }) == .builtin("x3"))
        #expect(try ModelSource.resolve(model: "x3.bin", scale: nil, builtinNames: names, fileExists: { $0 == "x3.bin" }) == .file("x3.bin"))
        #expect(throws: ModelSource.ResolveError.builtinNotAtScale(model: "x3", name: "x3", scale: 2)) {
            try ModelSource.resolve(model: "x3", scale: 2, builtinNames: names, fileExists: { _ in false })
        }
        #expect(throws: ModelSource.ResolveError.notFound(model: "dir/x3.bin", name: "dir/x3", denoise: 0)) {
            try ModelSource.resolve(model: "dir/x3.bin", scale: nil, builtinNames: names, fileExists: { _ in false })
        }
        #expect(throws: ModelSource.ResolveError.noBuiltin(name: "x3", scale: 3, denoise: 0)) {
            try ModelSource.resolve(model: nil, scale: 3, builtinNames: [], fileExists: { _ in false })
        }
        #expect(throws: ModelSource.ResolveError.unknownBuiltin(name: "x5")) { try ModelSource.builtin("x5").load { _ in nil } }
    }

    /// `--denoise N` picks `xS-denoiseN` for the scale `-s` or `-m xS` names; never a file, never a
    /// level or scale other than the one asked for.
    @Test func denoiseLevelsPickTheirBuiltIn() throws {
        let names = ["x2", "x2-denoise1", "x2-denoise2", "x4", "x4-denoise2"]
        func resolve(_ model: String?, _ scale: Int?, _ denoise: Int, file: String? = nil) throws -> ModelSource {
            try ModelSource.resolve(model: model, scale: scale, denoise: denoise, builtinNames: names, fileExists: { $0 == file })
        }
        #expect(try resolve(nil, nil, 1) == .builtin("x2-denoise1"))
        #expect(try resolve(nil, 4, 2) == .builtin("x4-denoise2"))
        #expect(try resolve(nil, 4, 0) == .builtin("x4"))
        #expect(try resolve("x2", nil, 2) == .builtin("x2-denoise2"))
        #expect(try resolve("x4.bin", 4, 2) == .builtin("x4-denoise2"))
        #expect(try resolve("x2-denoise1", 2, 0) == .builtin("x2-denoise1"))
        #expect(try resolve("x2-denoise1", nil, 1) == .builtin("x2-denoise1"))
        let refused: [(String?, Int?, Int, String?, ModelSource.ResolveError)] = [
            (nil, 4, 1, nil, .noBuiltin(name: "x4-denoise1", scale: 4, denoise: 1)),
            (nil, 3, 2, nil, .noBuiltin(name: "x3-denoise2", scale: 3, denoise: 2)),
            ("x2-denoise1", nil, 2, nil, .builtinNotAtDenoiseLevel(model: "x2-denoise1", name: "x2-denoise1", denoise: 2)),
            ("x2", 4, 2, nil, .builtinNotAtScale(model: "x2", name: "x2-denoise2", scale: 4)),
            ("x2.bin", nil, 1, "x2.bin", .denoiseWithFile(model: "x2.bin")),
            ("x4", nil, 3, nil, .notFound(model: "x4", name: "x4-denoise3", denoise: 3))]
        for (model, scale, denoise, file, error) in refused {
            #expect(throws: error, "\(model ?? "-") -s \(scale ?? 0) --denoise \(denoise)") {
                try resolve(model, scale, denoise, file: file)
            }
        }
    }
}

@Suite struct ReportTests {
    @Test func totalsAndJSONRoundTrip() throws {
        var done = FileReport(input: "a.png", output: "o/a.png", status: .done, seconds: 1)
        done.outputWidth = 1000
        done.outputHeight = 2000
        let files = [done, FileReport(input: "b.png", output: "o/b.png", status: .skipped),
                     FileReport(input: "c.png", output: "o/c.png", status: .failed, message: "c.png: broken")]
        let report = BatchReport(model: "x2", scale: 2, shard: "1/2", interrupted: false, files: files, seconds: 4)
        #expect(report.totals.done == 1 && report.totals.skipped == 1 && report.totals.failed == 1)
        #expect(abs(report.totals.megapixelsPerSecond - 0.5) < 1e-12)
        #expect(report.summary.hasPrefix("1 done, 1 skipped, 1 failed in 4.0 s"))
        let decoded = try JSONDecoder().decode(BatchReport.self, from: Data(try report.json().utf8))
        #expect(decoded == report)
    }
}
