import Foundation
import Testing
import UpscaleKit

/// What may stand at an output path (issue 24): only a regular file is written or replaced. A
/// device node, a FIFO, a socket and a symbolic link are refused whatever the flags, by `run` and
/// by `import`. Every node here is the test's own, in a temporary folder (a character device 1,3
/// is a second /dev/null there), never the system's /dev/null or /dev/stdout.
@Suite struct CLIOutputTargetTests {
    typealias Workspace = CLIRunTests.Workspace

    /// Makes a character device 1,3 (what /dev/null is) at `path`; false where that is not
    /// permitted (not root, or a container without CAP_MKNOD).
    static func makeCharacterDevice(_ path: String) -> Bool {
        // Linux's makedev(1, 3) (glibc's macro is not visible to Swift): minor | major << 8 for small numbers.
        mknod(path, mode_t(S_IFCHR) | 0o666, dev_t(1 << 8 | 3)) == 0
    }

    /// The type of what is at `path` (lstat), its device numbers and a link's text: a change to
    /// any is a replaced node.
    static func fingerprint(_ path: String) -> String {
        var status = stat()
        guard lstat(path, &status) == 0 else { return "missing" }
        var link = [CChar](repeating: 0, count: 1024)
        let count = readlink(path, &link, 1023)
        let text = count > 0 ? String(decoding: link[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        return "type \(status.st_mode & S_IFMT) rdev \(status.st_rdev) size \(status.st_size) link \(text)"
    }

    /// The nodes each test writes at, made in `ws`: name → what the message must say.
    static func makeNodes(_ ws: Workspace) throws -> [(name: String, says: String)] {
        var nodes: [(String, String)] = []
        if makeCharacterDevice(ws.root + "/device") {
            nodes.append(("device", "is a character device, not a regular file"))
        } else {
            print("CLIOutputTargetTests: mknod is not permitted here (\(String(cString: strerror(errno)))); the device case is skipped")
        }
        #expect(mkfifo(ws.root + "/fifo", 0o644) == 0)
        nodes.append(("fifo", "is a FIFO (named pipe), not a regular file"))
        try ws.write("real.png", Data("the file a link points to".utf8))
        #expect(symlink("real.png", ws.root + "/to-file") == 0)
        nodes.append(("to-file", "is a symbolic link to real.png, a regular file"))
        #expect(symlink("missing.png", ws.root + "/dangling") == 0)
        nodes.append(("dangling", "is a symbolic link to missing.png, which does not exist"))
        // What /dev/stdout is: a link to /proc/self/fd/1 (here the test's pipe).
        #expect(symlink("/proc/self/fd/1", ws.root + "/stdout-link") == 0)
        nodes.append(("stdout-link", "is a symbolic link to /proc/self/fd/1"))
        return nodes
    }

    @Test func runRefusesEveryOutputThatIsNotARegularFileWhateverTheFlags() throws {
        let ws = try Workspace(["a.png": (4, 4)])
        defer { ws.remove() }
        let nodes = try Self.makeNodes(ws)
        let before = nodes.map { Self.fingerprint(ws.root + "/" + $0.name) }
        let real = ws.data("real.png")
        for (node, says) in nodes {
            for flags in [[], ["--overwrite"], ["--skip-existing"]] {
                let result = try ws.run(["a.png", "-o", node, "-f", "png"] + flags)
                #expect(result.status == 1, "\(node) \(flags): \(result.stderr)")
                #expect(result.stderr.contains("\(node) \(says)"), "\(node) \(flags): \(result.stderr)")
                let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
                #expect(errors.count == 1, "\(node) \(flags): one message, before any work: \(result.stderr)")
            }
        }
        #expect(nodes.map { Self.fingerprint(ws.root + "/" + $0.name) } == before)
        #expect(ws.data("real.png") == real)
        #expect(!ws.listing().contains { $0.hasPrefix(".") }, "temporary left: \(ws.listing())")

        // Under /dev and /proc the message points to -o -. Never the real /dev/stdout here: a
        // binary with this defect would replace it for the whole machine. /proc/self/fd/1 is the
        // same link, and no rename can land on it.
        let stdout = try ws.run(["a.png", "-o", "/proc/self/fd/1", "--overwrite"])
        #expect(stdout.status == 1 && stdout.stderr.contains("To write the image to stdout, pass -o -."), "\(stdout.stderr)")
        #expect(stdout.stdout.isEmpty)

        // The same in a folder run: the refused output fails, the others are written.
        try ws.addPNG("in/device.png", 4, 4)
        try ws.addPNG("in/plain.png", 4, 4)
        try FileManager.default.createDirectory(atPath: ws.root + "/out", withIntermediateDirectories: true)
        #expect(mkfifo(ws.root + "/out/device.png", 0o644) == 0)
        let batch = try ws.run(["in", "-o", "out", "--overwrite", "--json"])
        #expect(batch.status == 1, "\(batch.stderr)")
        let report = try JSONDecoder().decode(BatchReport.self, from: batch.stdout)
        #expect(report.files.map(\.status) == [.failed, .done], "\(report.files)")
        #expect(Self.fingerprint(ws.root + "/out/device.png").hasPrefix("type \(S_IFIFO) "))
    }

    @Test func importRefusesEveryOutputThatIsNotARegularFile() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        for ext in ["param", "bin"] {
            try FileManager.default.copyItem(atPath: "\(ImportCLITests.fixtures)/vgg7_x1_f32.\(ext)", toPath: "\(ws.root)/m.\(ext)")
        }
        let nodes = try Self.makeNodes(ws)
        let before = nodes.map { Self.fingerprint(ws.root + "/" + $0.name) }
        for (node, says) in nodes {
            for flags in [[], ["--overwrite"]] {
                let result = try CLI.run(["import", "m.param", "-o", node] + flags, in: ws.root)
                #expect(result.status == 1, "\(node) \(flags): \(result.stderr)")
                #expect(result.stderr.contains("\(node) \(says)"), "\(node) \(flags): \(result.stderr)")
            }
        }
        #expect(nodes.map { Self.fingerprint(ws.root + "/" + $0.name) } == before)
        // A folder gets one hint, with or without --overwrite.
        try FileManager.default.createDirectory(atPath: ws.root + "/models", withIntermediateDirectories: true)
        for flags in [[], ["--overwrite"]] {
            let folder = try CLI.run(["import", "m.param", "-o", "models"] + flags, in: ws.root)
            #expect(folder.status == 1 && folder.stderr == "error: models is a folder; pass -o with the path of the "
                    + "weights file to write, for example -o models/model.bin.\n", "\(folder.stderr)")
        }
        // A regular file is replaced with --overwrite, atomically, by a weights file.
        try ws.write("old.bin", Data("old".utf8))
        let replaced = try CLI.run(["import", "m.param", "-o", "old.bin", "--overwrite"], in: ws.root)
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(try Model.load(path: ws.root + "/old.bin").layers.count == 7)
        #expect(!ws.listing().contains { $0.hasPrefix(".") }, "temporary left: \(ws.listing())")
    }

    /// Issue 24, item 5: a temporary whose writer lives in another PID namespace (a container on
    /// the same host name and volume) has a process id that means nothing here. Its writer's
    /// lock says it is alive; only unlocked temporaries are removed.
    @Test func aLockedTemporaryIsKeptWhateverItsProcessIdAndAnUnlockedOneRemoved() throws {
        let ws = try Workspace(["a.png": (4, 4)])
        defer { ws.remove() }
        try FileManager.default.createDirectory(atPath: ws.root + "/out", withIntermediateDirectories: true)
        // A process id no process here has: pids are below pid_max.
        let pidMax = (try? String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 4_194_304
        #expect(kill(pidMax, 0) != 0)
        let parts = AtomicFile.temporaryNamePrefix.split(separator: "-")  // [".upscale", host, pid]
        let live = "\(parts[0])-\(parts[1])-\(pidMax)-Live01", stale = "\(parts[0])-\(parts[1])-\(pidMax)-Stal01"
        try ws.write("out/" + live, Data("being written by a container".utf8))
        try ws.write("out/" + stale, Data("left by a killed run".utf8))
        let fd = open(ws.root + "/out/" + live, O_RDWR)
        defer { close(fd) }
        #expect(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)

        let result = try ws.run(["a.png", "-o", "out/a.png", "--verbose"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(ws.exists("out/" + live), "the live temporary was removed: \(result.stderr)")
        #expect(!ws.exists("out/" + stale) && result.stderr.contains("removed out/\(stale)"), "\(result.stderr)")
        #expect(ws.pngSize("out/a.png").map { [$0.width, $0.height] } == [8, 8])
    }

    /// The same, for real: a run in its own PID namespace (`unshare -p`, as a container is) whose
    /// process id is one no process has out here, and a run out here writing into the same folder.
    /// The outer run's cleanup must leave the inner run's temporary alone, and the inner run
    /// finish. Skipped where unshare is missing or not permitted.
    @Test func aRunInAnotherPIDNamespaceKeepsItsTemporary() throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        probe.arguments = ["-p", "-f", "--mount-proc", "/bin/true"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else {
            print("aRunInAnotherPIDNamespaceKeepsItsTemporary: no /usr/bin/unshare here; skipped")
            return
        }
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            print("aRunInAnotherPIDNamespaceKeepsItsTemporary: unshare -p is not permitted here; skipped")
            return
        }
        let ws = try Workspace()
        defer { ws.remove() }
        try ws.addPNG("tall.png", 512, 3072)
        try FileManager.default.createDirectory(atPath: ws.root + "/out", withIntermediateDirectories: true)
        // The inner shell is pid 1; it spends pids 2..<free on /bin/true, so the run gets `free`.
        let free = try #require((3..<2000).first { kill(pid_t($0), 0) != 0 && errno == ESRCH })
        let inner = "exec /usr/bin/unshare -p -f --mount-proc /bin/sh -c 'i=2; while [ $i -lt \(free) ]; do /bin/true; "
            + "i=$((i+1)); done; \"$0\" \"$@\"' \"$0\" \"$@\""
        let run = try BackgroundRun(["tall.png", "-o", "out/tall.png", "-t", "16", "-j", "1", "-m", ws.model],
                                    in: ws.root, name: "namespaced", shell: inner)
        let temporary = try #require(run.waitForTemporary(in: ws.root + "/out"), "no temporary file appeared: \(run.stderr())")
        print("namespaced run's temporary: \(temporary) (pid \(free) is free out here: \(kill(pid_t(free), 0) != 0))")
        try ws.addPNG("b.png", 4, 4)
        let outer = try ws.run(["b.png", "-o", "out/b.png", "--verbose"])
        #expect(outer.status == 0 && !outer.stderr.contains("removed"), "\(outer.stderr)")
        run.process.waitUntilExit()
        #expect(run.process.terminationStatus == 0, "\(run.stderr())")
        #expect(ws.pngSize("out/tall.png").map { [$0.width, $0.height] } == [1024, 6144])
    }

    /// A run's own temporary is locked while it lives: a second run's cleanup, started while the
    /// first writes, leaves it, and the first finishes.
    @Test func aRunningWritersTemporaryIsLocked() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let run = try BackgroundRun.slowRun(ws, name: "slow")
        let temporary = try #require(run.waitForTemporary(in: ws.root + "/out"), "no temporary file appeared")
        let fd = open(ws.root + "/out/" + temporary, O_RDONLY)
        #expect(fd >= 0)
        // The writer locks its temporary just after mkstemp makes it, so the name can be seen a
        // moment before the lock is taken: poll for up to 5 s. (Taking the lock in that moment
        // only makes the writer wait for it.)
        var locked = false
        for _ in 0..<500 where !locked {
            if flock(fd, LOCK_EX | LOCK_NB) != 0 { locked = errno == EWOULDBLOCK } else { flock(fd, LOCK_UN); usleep(10_000) }
        }
        #expect(locked, "the writer holds no lock")
        close(fd)
        try ws.addPNG("b.png", 4, 4)
        let second = try ws.run(["b.png", "-o", "out/b.png", "--verbose"])
        #expect(second.status == 0 && !second.stderr.contains("removed"), "\(second.stderr)")
        run.process.waitUntilExit()
        #expect(run.process.terminationStatus == 0, "\(run.stderr())")
        #expect(ws.pngSize("out/tall.png").map { [$0.width, $0.height] } == [1024, 6144])
    }

    /// Issue 24, item 7: two resumed runs (`--skip-existing`) racing into one folder. Whichever
    /// writes an output first wins it; for the other it was created meanwhile, which under
    /// --skip-existing is a skip, not a failure: both runs exit 0.
    @Test func twoSkipExistingRunsRacingIntoOneFolderBothSucceed() throws {
        let count = 40
        var images: [String: (Int, Int)] = [:]
        for k in 0..<count { images[String(format: "in/%02d.png", k)] = (4, 4) }
        let ws = try Workspace(images)
        defer { ws.remove() }
        let runs = try (0..<2).map { k in
            try BackgroundRun(["in", "-o", "out", "--skip-existing", "--json", "-j", "1", "-m", ws.model],
                              in: ws.root, name: "resume-\(k)")
        }
        let reports = try runs.map { run -> BatchReport in
            run.process.waitUntilExit()
            #expect(run.process.terminationStatus == 0, "\(run.stderr())")
            return try JSONDecoder().decode(BatchReport.self, from: run.stdout())
        }
        for k in 0..<count {
            let input = String(format: "in/%02d.png", k)
            let statuses = reports.map { $0.files.first { $0.input == input }?.status }
            #expect(statuses.filter { $0 == .done }.count == 1 && statuses.filter { $0 == .skipped }.count == 1,
                    "\(input): \(statuses)")
            #expect(ws.pngSize(String(format: "out/%02d.png", k)).map { [$0.width, $0.height] } == [8, 8])
        }
        #expect(reports.allSatisfy { $0.totals.failed == 0 }, "\(reports.map(\.files))")
        let raced = reports.flatMap(\.files).filter { $0.message?.contains("created meanwhile") == true }.count
        print("skip-existing race: \(raced) of \(count) outputs were created by the other run after this one planned")
        #expect(!ws.listing().contains { $0.hasPrefix("out/.") }, "temporary file left: \(ws.listing())")
    }
}
