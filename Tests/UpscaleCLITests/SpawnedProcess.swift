import Foundation
import Testing
import UpscaleKit
#if canImport(Glibc)
import Glibc
#endif

/// The `upscale` binary in a child process, with its exit status or signal and its peak resident
/// memory, which Foundation's Process does not report. The peak is the child's VmHWM from
/// /proc/PID/status, read every 2 ms until it exits: wait4's ru_maxrss cannot be used, because
/// posix_spawn's child shares this process's memory until it execs, and the kernel carries that
/// high-water mark (the whole test runner's) into the child's.
enum Spawned {
    struct Result {
        var status: Int32
        var signal: Int32?
        var maxRSS: Int   // bytes: the largest VmHWM seen
        var stdout: String
        var stderr: String
    }

    /// `arguments` name files by absolute paths (the child runs in this process's directory);
    /// each is passed as the bytes it stands for (PathBytes), so a name that is not UTF-8 reaches
    /// the child as it is. stdout and stderr go through files in `directory`; stdin is read from
    /// the file `stdin`. `addressSpaceKB`: the child runs under `ulimit -v` of that many KiB (set by
    /// /bin/sh, which then execs the binary in its place: the same process).
    static func run(_ arguments: [String], in directory: String, stdin: String = "/dev/null",
                    addressSpaceKB: Int? = nil) throws -> Result {
        var exe = try CLI.executable()
        var arguments = arguments
        if let addressSpaceKB {
            arguments = ["-c", "ulimit -v \(addressSpaceKB) && exec \"$0\" \"$@\"", exe.path] + arguments
            exe = URL(fileURLWithPath: "/bin/sh")
        }
        let outPath = directory + "/.stdout-\(UUID().uuidString)", errPath = directory + "/.stderr-\(UUID().uuidString)"
        defer { unlink(outPath); unlink(errPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([exe.path] + arguments).map { $0.pathCString.withUnsafeBufferPointer { strdup($0.baseAddress!) } } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, exe.path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw ImageIOError(path: exe.path, message: "posix_spawn failed: \(spawned)") }
        var status: Int32 = 0
        var peak = 0
        while true {
            peak = max(peak, highWaterMark(pid))
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || (reaped < 0 && errno != EINTR) { break }
            usleep(2000)
        }
        let signal = status & 0x7F
        let text = { (path: String) in String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }
        return Result(status: (status >> 8) & 0xFF, signal: signal == 0 ? nil : signal, maxRSS: peak,
                      stdout: text(outPath), stderr: text(errPath))
    }

    /// VmHWM of a running process in bytes; 0 once it has exited (or when unreadable).
    static func highWaterMark(_ pid: pid_t) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kB = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kB * 1024
    }
}
