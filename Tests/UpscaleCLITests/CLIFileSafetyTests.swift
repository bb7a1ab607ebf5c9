import Foundation
import Testing
import UpscaleKit

/// What happens to the user's files: inputs never replaced, outputs never replaced by a racing
/// run, modes kept, no temporary file left behind for long, long names and folders handled.
@Suite struct CLIFileSafetyTests {
    typealias Workspace = CLIRunTests.Workspace

    @Test func anOutputThatIsAnotherInputIsRefusedEvenWithOverwrite() throws {
        let ws = try Workspace(["a.png": (8, 8), "a_x2.png": (5, 3)])
        defer { ws.remove() }
        let original = try #require(ws.data("a_x2.png"))
        let result = try ws.run(["a.png", "a_x2.png", "--overwrite"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("a_x2.png, the output of a.png, is also an input"), "\(result.stderr)")
        #expect(ws.data("a_x2.png") == original)
        // The other input is still upscaled, from its own content.
        #expect(ws.pngSize("a_x2_x2.png").map { [$0.width, $0.height] } == [10, 6])

        // One file under two spellings is one input, not a collision.
        let twice = try ws.run(["./a.png", "a.png", "-o", "out", "--json"])
        #expect(twice.status == 0, "\(twice.stderr)")
        let report = try JSONDecoder().decode(BatchReport.self, from: twice.stdout)
        #expect(report.files.map(\.status) == [.done], "\(report.files)")
    }

    @Test func twoRunsRacingIntoOneFolderNeverBothWriteAFile() throws {
        // Both runs plan every output as free, then race for each name: exactly one may win it.
        let count = 48
        var images: [String: (Int, Int)] = [:]
        for k in 0..<count { images[String(format: "in/%02d.png", k)] = (4, 4) }
        let ws = try Workspace(images)
        defer { ws.remove() }
        for round in 0..<2 {
            let out = "out\(round)"
            let runs = try (0..<2).map { k in
                try BackgroundRun(["in", "-o", out, "--json", "-j", "1", "-m", ws.model], in: ws.root, name: "\(out)-\(k)")
            }
            let reports = try runs.map { run -> BatchReport in
                run.process.waitUntilExit()
                return try JSONDecoder().decode(BatchReport.self, from: run.stdout())
            }
            for k in 0..<count {
                let input = String(format: "in/%02d.png", k)
                let statuses = reports.map { $0.files.first { $0.input == input }?.status }
                #expect(statuses.filter { $0 == .done }.count == 1, "\(input): \(statuses)")
                #expect(statuses.filter { $0 == .failed }.count == 1, "\(input): \(statuses)")
                for report in reports {
                    guard let file = report.files.first(where: { $0.input == input }), file.status == .failed else { continue }
                    let message = file.message ?? ""
                    #expect(message.contains("appeared meanwhile") || message.contains("already exists"), "\(message)")
                }
                #expect(ws.pngSize(String(format: "\(out)/%02d.png", k)).map { [$0.width, $0.height] } == [8, 8])
            }
            #expect(reports.map(\.totals.done).reduce(0, +) == count)
            #expect(!ws.listing().contains { $0.hasPrefix(out + "/.") }, "temporary file left: \(ws.listing())")
        }
    }

    @Test func overwriteKeepsTheReplacedFilesModeAndNewFilesFollowTheUmask() throws {
        let ws = try Workspace(["a.png": (4, 4)])
        defer { ws.remove() }
        try ws.write("a_x2.png", Data("old".utf8))
        try FileManager.default.setAttributes([.posixPermissions: 0o604], ofItemAtPath: ws.root + "/a_x2.png")
        let replaced = try ws.run(["a.png", "--overwrite"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(ws.pngSize("a_x2.png") != nil)
        #expect(mode(ws.root + "/a_x2.png") == 0o604)

        let run = try BackgroundRun(["a.png", "-o", "new.png", "-m", ws.model], in: ws.root, name: "umask",
                              shell: "umask 077; exec \"$0\" \"$@\"")
        run.process.waitUntilExit()
        #expect(run.process.terminationStatus == 0, "\(run.stderr())")
        #expect(mode(ws.root + "/new.png") == 0o600)
    }

    @Test func aTemporaryFileOfAKilledRunIsRemovedByTheNextRunThere() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let run = try BackgroundRun.slowRun(ws, name: "killed")
        let temporary = try #require(run.waitForTemporary(in: ws.root + "/out"), "no temporary file appeared")
        kill(run.process.processIdentifier, SIGKILL)
        run.process.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: ws.root + "/out/" + temporary))

        // Beside it: a temporary of a running writer (this process, holding its lock) and files
        // that are not ours.
        let mine = AtomicFile.temporaryNamePrefix + "Ab12Cd"
        let prefix = AtomicFile.temporaryNamePrefix.split(separator: "-")
        let otherHost = ".upscale-\(prefix[1] == "0badcafe" ? "0badcaff" : "0badcafe")-\(prefix[2])-Ab12Cd"
        let keep = [mine, otherHost, ".upscale-notes.txt", ".hidden.png"]
        for name in keep { try ws.write("out/" + name, Data("x".utf8)) }
        let lock = open(ws.root + "/out/" + mine, O_RDWR)
        defer { close(lock) }
        #expect(lock >= 0 && flock(lock, LOCK_EX) == 0)
        try ws.addPNG("small.png", 4, 4)
        let next = try ws.run(["small.png", "-o", "out/small.png", "--verbose"])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(next.stderr.contains("removed out/\(temporary)"), "\(next.stderr)")
        let left = ws.listing().filter { $0.hasPrefix("out/.") }.map { String($0.dropFirst(4)) }
        #expect(left == keep.sorted(), "\(ws.listing())")
    }

    @Test func longNamesAreWrittenAndTooLongOnesRefusedByName() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let stem = String(repeating: "写", count: 80)  // 240 bytes: the output name is 247, its old temporary name 263
        try ws.addPNG(stem + ".png", 4, 4)
        let long = try ws.run([stem + ".png"])
        #expect(long.status == 0, "\(long.stderr)")
        #expect(ws.pngSize(stem + "_x2.png") != nil, "\(ws.listing())")

        let longer = String(repeating: "b", count: 250)  // the input name is 254 bytes, its output 257
        try ws.addPNG(longer + ".png", 4, 4)
        let refused = try ws.run([longer + ".png"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("257 bytes long, more than the 255"), "\(refused.stderr)")
    }

    @Test func aFolderWhereAFileIsExpectedGetsOneMessageBeforeAnyWork() throws {
        let ws = try Workspace(["a.png": (4, 4), "b.png": (4, 4)])
        defer { ws.remove() }
        func errors(_ result: CLIResult) -> [Substring] {
            result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        }
        let png = try #require(ws.data("a.png"))
        let stdinIntoFolder = try ws.run(["-", "-o", "out/"], stdin: png)
        #expect(stdinIntoFolder.status == 64 && errors(stdinIntoFolder).count == 1, "\(stdinIntoFolder.stderr)")
        #expect(stdinIntoFolder.stderr.contains("out/: names a folder, and an image read from stdin has no name"))

        try FileManager.default.createDirectory(atPath: ws.root + "/a_x2.png", withIntermediateDirectories: false)
        for flags in [[], ["--skip-existing"], ["--overwrite"]] {
            let result = try ws.run(["a.png"] + flags)
            #expect(result.status == 1 && errors(result).count == 1, "\(flags): \(result.stderr)")
            #expect(result.stderr.contains("a_x2.png is a folder"), "\(flags): \(result.stderr)")
        }

        let folderNamedLikeAFile = try ws.run(["a.png", "b.png", "-o", "out.png"])
        #expect(folderNamedLikeAFile.status == 64 && errors(folderNamedLikeAFile).count == 1,
                "\(folderNamedLikeAFile.stderr)")
        #expect(folderNamedLikeAFile.stderr.contains("out.png: names an image file"))
        #expect(!ws.exists("out.png") && !ws.exists("out"), "\(ws.listing())")
        #expect(ws.listing() == ["a.png", "b.png", "model.bin"], "\(ws.listing())")
    }

    private func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
    }
}

/// Writes that fail and signals that arrive: a message and a status, never a crash.
@Suite struct CLIWriteAndSignalTests {
    typealias Workspace = CLIRunTests.Workspace

    /// Issue 29: a failed write to stdout is the output's failure, made so by the writer; the
    /// advice is about what reads stdout, never about the input image, which was fine.
    @Test func aFailedWriteToStdoutIsNamedAsTheOutputNotTheInput() throws {
        let ws = try Workspace(["a.png": (16, 16)])
        defer { ws.remove() }
        let full = try BackgroundRun(["-", "-f", "png", "-m", ws.model], in: ws.root, name: "side",
                                     stdin: ws.root + "/a.png", stdout: FileHandle(forWritingAtPath: "/dev/full"))
        full.process.waitUntilExit()
        let text = full.stderr()
        #expect(full.process.terminationReason == .exit && full.process.terminationStatus == 1, "\(text)")
        #expect(text.contains("error: stdout: cannot write: No space left on device. Check that whatever reads "
                              + "stdout (a pipe, a file) is still there and has room."), "\(text)")
        let errors = text.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1 && !errors[0].contains("stdin") && !errors[0].contains("complete PNG or JPEG"), "\(text)")
    }

    @Test func writeAndReadErrorsOnTheStandardStreamsAreMessagesNotCrashes() throws {
        let ws = try Workspace(["a.png": (64, 64)])
        defer { ws.remove() }
        let full = try BackgroundRun(["-", "-m", ws.model], in: ws.root, name: "full", stdin: ws.root + "/a.png",
                               stdout: FileHandle(forWritingAtPath: "/dev/full"))
        full.process.waitUntilExit()
        #expect(full.process.terminationReason == .exit && full.process.terminationStatus == 1, "\(full.stderr())")
        #expect(full.stderr().contains("stdout: cannot write: No space left on device."), "\(full.stderr())")

        // A pipe whose reader is gone before the first write: EPIPE, not SIGPIPE.
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        close(ends[0])
        let closed = try BackgroundRun(["-", "-m", ws.model], in: ws.root, name: "closed", stdin: ws.root + "/a.png",
                                 stdout: FileHandle(fileDescriptor: ends[1], closeOnDealloc: true))
        closed.process.waitUntilExit()
        #expect(closed.process.terminationReason == .exit && closed.process.terminationStatus == 1, "\(closed.stderr())")
        #expect(closed.stderr().contains("stdout: cannot write: Broken pipe."), "\(closed.stderr())")
        #expect(closed.stderr().contains("whatever reads stdout"), "\(closed.stderr())")

        let models = try BackgroundRun(["models", "--json"], in: ws.root, name: "models", stdout: FileHandle(forWritingAtPath: "/dev/full"))
        models.process.waitUntilExit()
        #expect(models.process.terminationStatus == 1, "\(models.stderr())")
        #expect(models.stderr().contains("cannot write to stdout"), "\(models.stderr())")

        // A read error on stdin is the same: a message and exit 1.
        let folder = try BackgroundRun(["-", "-m", ws.model], in: ws.root, name: "folder", stdin: ws.root)
        folder.process.waitUntilExit()
        #expect(folder.process.terminationReason == .exit && folder.process.terminationStatus == 1, "\(folder.stderr())")
        #expect(folder.stderr().contains("cannot read stdin: Is a directory"), "\(folder.stderr())")

        // stderr that cannot be written (a terminal closed under a SIGHUP): the run still works.
        let quiet = try BackgroundRun(["a.png", "-m", ws.model], in: ws.root, name: "stderr",
                                stderr: FileHandle(forWritingAtPath: "/dev/full"))
        quiet.process.waitUntilExit()
        #expect(quiet.process.terminationReason == .exit && quiet.process.terminationStatus == 0)
        #expect(ws.pngSize("a_x2.png").map { [$0.width, $0.height] } == [128, 128])
    }

    @Test func aFileSizeLimitFailsThatFileAndTheBatchGoesOn() throws {
        let ws = try Workspace(["in/a.png": (8, 8), "in/c.png": (8, 8)])
        defer { ws.remove() }
        // Noise does not compress: b's output is about 1 MB, over the limit of 40 blocks (20 or 40 KB).
        var state: UInt32 = 12345
        let noise = (0..<(300 * 300 * 3)).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(state >> 24)
        }
        try ws.write("in/b.png", TinyPNG.rgb(width: 300, height: 300, pixels: noise))
        let run = try BackgroundRun(["in", "-o", "out", "--json", "-m", ws.model], in: ws.root, name: "fsize",
                              shell: "ulimit -f 40; exec \"$0\" \"$@\"")
        run.process.waitUntilExit()
        #expect(run.process.terminationReason == .exit && run.process.terminationStatus == 1, "\(run.stderr())")
        let report = try JSONDecoder().decode(BatchReport.self, from: run.stdout())
        #expect(report.files.map(\.status) == [.done, .failed, .done], "\(report.files)")
        let failed = try #require(report.files.first { $0.input == "in/b.png" })
        #expect((failed.message ?? "").contains("File too large"), "\(failed.message ?? "")")
        #expect(ws.listing().filter { $0.hasPrefix("out/") } == ["out/a.png", "out/c.png"], "\(ws.listing())")
    }

    @Test func sighupStopsTheRunLikeSigterm() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let run = try BackgroundRun.slowRun(ws, name: "hup")
        #expect(run.waitForTemporary(in: ws.root + "/out") != nil, "no temporary file appeared")
        kill(run.process.processIdentifier, SIGHUP)
        run.process.waitUntilExit()
        #expect(run.process.terminationReason == .exit && run.process.terminationStatus == 130, "\(run.stderr())")
        let report = try JSONDecoder().decode(BatchReport.self, from: run.stdout())
        #expect(report.interrupted && report.files.map(\.status) == [.cancelled])
        #expect(!ws.listing().contains { $0.hasPrefix("out/") }, "\(ws.listing())")
    }
}

/// The binary run with stdout and stderr in files (or stdout on a given handle), optionally
/// through `/bin/sh -c SHELL` to set a umask or a ulimit first.
struct BackgroundRun {
    let process = Process()
    let folder: String
    let name: String

    init(_ arguments: [String], in folder: String, name: String, stdin: String? = nil, stdout: FileHandle? = nil,
         stderr: FileHandle? = nil, shell: String? = nil) throws {
        self.folder = folder
        self.name = name
        let executable = try CLI.executable()
        if let shell {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", shell, executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        _ = FileManager.default.createFile(atPath: folder + "/\(name).stdout", contents: nil)
        _ = FileManager.default.createFile(atPath: folder + "/\(name).stderr", contents: nil)
        process.standardOutput = stdout ?? FileHandle(forWritingAtPath: folder + "/\(name).stdout")
        process.standardError = stderr ?? FileHandle(forWritingAtPath: folder + "/\(name).stderr")
        process.standardInput = stdin.flatMap { FileHandle(forReadingAtPath: $0) } ?? FileHandle.nullDevice
        try process.run()
    }

    func stdout() -> Data { FileManager.default.contents(atPath: folder + "/\(name).stdout") ?? Data() }
    func stderr() -> String { String(decoding: FileManager.default.contents(atPath: folder + "/\(name).stderr") ?? Data(), as: UTF8.self) }

    /// A run that streams one tall image into `out/` in small tiles, long enough (about a second)
    /// to be caught while its temporary file exists.
    static func slowRun(_ ws: CLIRunTests.Workspace, name: String) throws -> BackgroundRun {
        try ws.addPNG("tall.png", 512, 3072)
        try FileManager.default.createDirectory(atPath: ws.root + "/out", withIntermediateDirectories: true)
        return try BackgroundRun(["tall.png", "-o", "out/tall.png", "-t", "16", "-j", "1", "--json", "-m", ws.model],
                           in: ws.root, name: name)
    }

    /// Waits (up to 20 s) for a temporary (hidden) file to appear in `folder`; its name.
    func waitForTemporary(in folder: String) -> String? {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && process.isRunning {
            if let name = (try? FileManager.default.contentsOfDirectory(atPath: folder))?.first(where: { $0.hasPrefix(".") }) {
                return name
            }
            usleep(1000)
        }
        return nil
    }
}
