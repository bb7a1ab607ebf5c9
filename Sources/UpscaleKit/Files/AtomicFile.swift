// Atomic file writes: bytes go to a temporary file beside the target, which is flushed, fsync-ed
// and moved to the target only when complete. On any error, or when the writer is dropped
// unfinished, the temporary file is removed; the target is untouched until the final step.
//
// The final step: without `overwrite` it never replaces a file, atomically, so two processes
// writing the same output cannot both succeed: renameat2(RENAME_NOREPLACE), or where the
// filesystem refuses that flag, link() + unlink() (link fails with EEXIST when the name is
// taken). With `overwrite` it is rename(), and the new file keeps the permission bits of the file
// it replaces; new files get 0666 minus the umask. Only a regular file is ever replaced: a device
// node, FIFO, socket, symbolic link or folder at the target is refused (`OutputPathState`), when
// the write begins and again just before the rename.
//
// Temporaries (their names, their owners, the cleanup of stale ones): AtomicFile+Temporaries.swift;
// the table of those in flight, for an interruption: InFlightRegistry.swift.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

public enum AtomicFile {
    /// Writes `bytes` to `path` atomically, by the rules of this file: a temporary beside it,
    /// then the final step; `overwrite` replaces a regular file only.
    /// - Throws: `ImageIOError` naming `path`: `.outputExists`, `.outputNotRegular`, or a failed write.
    public static func write(_ bytes: [UInt8], to path: String, overwrite: Bool) throws {
        let write = try AtomicWrite(path: path, overwrite: overwrite)
        if !bytes.isEmpty && fwrite(bytes, 1, bytes.count, write.file) != bytes.count {
            let text = errnoText()
            write.discard()
            throw ImageIOError(path: path, message: "write failed: \(text)", side: .output)
        }
        try write.commit()
    }
}

/// One atomic write in progress.
final class AtomicWrite: OutputSink {
    let name: String          // the target path
    let tempPath: String
    let file: UnsafeMutablePointer<FILE>
    private let overwrite: Bool
    private let lockHolder: Int32  // a second descriptor of the temporary: its flock lives until the rename
    private var slot: Int?
    private var done = false

    /// The permission bits new files get (0666 minus the umask), read once.
    private static let newFileMode: mode_t = {
        let mask = umask(0o022)
        umask(mask)
        return 0o666 & ~mask
    }()

    /// Creates the temporary file, locked; refuses when the target exists and `overwrite` is
    /// false, and whatever `overwrite` says when the target is not a regular file.
    init(path: String, overwrite: Bool) throws {
        name = path
        self.overwrite = overwrite
        try Self.checkTarget(path, overwrite: overwrite)
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let (fd, tempPath) = try AtomicFile.createLockedTemporary(in: directory, for: path)
        self.tempPath = tempPath
        slot = InFlightRegistry.shared.register(tempPath)
        _ = fchmod(fd, Self.newFileMode)
        lockHolder = dup(fd)  // -1 only when out of descriptors: fdopen below fails then too
        guard lockHolder >= 0, let file = fdopen(fd, "wb") else {
            let text = errnoText()
            if lockHolder >= 0 { close(lockHolder) }
            close(fd)
            unlink(tempPath.pathCString)
            if let slot { InFlightRegistry.shared.unregister(slot) }
            throw ImageIOError(path: path, message: "cannot open the temporary file: \(text)", side: .output)
        }
        self.file = file
    }

    /// Throws unless `path` may be written: free, or a regular file with `overwrite`.
    static func checkTarget(_ path: String, overwrite: Bool) throws {
        switch OutputPathState.of(path) {
        case .free: return
        case .regularFile:
            if overwrite { return }
            throw ImageIOError(path: path, message: "file exists; pass --overwrite to replace it",
                               kind: .outputExists(appearedMeanwhile: false), side: .output)
        case .folder:
            throw ImageIOError(path: path, message: "is a folder (or a link to one), so the output file cannot "
                               + "be written there", kind: .outputNotRegular, side: .output)
        case .refused(let why):
            throw ImageIOError(path: path, message: why, kind: .outputNotRegular, side: .output)
        }
    }

    deinit { discard() }

    static func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path.pathCString, &status) == 0
    }

    func commit() throws {
        guard !done else { return }
        done = true
        var failure: ImageIOError?
        func fail(_ message: String, _ kind: ImageIOError.Kind = .other) {
            if failure == nil { failure = ImageIOError(path: name, message: message, kind: kind, side: .output) }
        }
        if fflush(file) != 0 || ferror(file) != 0 { fail("write failed: \(errnoText())") }
        if failure == nil && overwrite { keepModeOfReplacedFile() }
        if failure == nil && fsync(fileno(file)) != 0 { fail("fsync failed: \(errnoText())") }
        if fclose(file) != 0 { fail("close failed: \(errnoText())") }
        if failure == nil {
            if overwrite {
                // Checked again here: a device, FIFO or link made at the name since the write
                // began is not replaced either.
                do {
                    try Self.checkTarget(name, overwrite: true)
                } catch let error as ImageIOError {
                    fail(error.message, error.kind)
                } catch {}
                if failure == nil && rename(tempPath.pathCString, name.pathCString) != 0 {
                    fail("cannot rename the temporary file into place: \(errnoText())")
                }
            } else {
                switch Self.moveWithoutReplacing(tempPath, to: name) {
                case .moved: break
                case .targetExists:
                    fail("file appeared meanwhile (another process created it while this one was being written); "
                         + "it was left as it is", .outputExists(appearedMeanwhile: true))
                case .failed(let code):
                    fail("cannot move the temporary file into place: \(errnoText(code))")
                }
            }
        }
        if failure != nil { unlink(tempPath.pathCString) }
        close(lockHolder)
        if let slot { InFlightRegistry.shared.unregister(slot) }
        slot = nil
        if let failure { throw failure }
    }

    /// Hands what is written so far to the disk without waiting for it (sync_file_range,
    /// SYNC_FILE_RANGE_WRITE), so that the fsync of `commit` waits for the last part only instead
    /// of the whole file (tens of MB for an upscaled photo) after the last row. A hint: where the
    /// call is missing or fails, `commit`'s fsync does all of it, as before.
    func startWriteback() {
        guard !done, let syncFileRange = Self.syncFileRange, fflush(file) == 0 else { return }
        _ = syncFileRange(fileno(file), 0, 0, Self.syncFileRangeWrite)
    }

    /// sync_file_range is declared only with _GNU_SOURCE, as renameat2 (below) is.
    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    private static let syncFileRange: SyncFileRange? = dlsym(nil, "sync_file_range").map { unsafeBitCast($0, to: SyncFileRange.self) }
    private static let syncFileRangeWrite: UInt32 = 2  // SYNC_FILE_RANGE_WRITE, <fcntl.h>

    /// With `overwrite`: give the new file the permission bits of the regular file it replaces.
    private func keepModeOfReplacedFile() {
        var status = stat()
        guard lstat(name.pathCString, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return }
        _ = fchmod(fileno(file), status.st_mode & 0o777)
    }

    enum MoveOutcome: Equatable {
        case moved, targetExists
        case failed(Int32)  // errno
    }

    /// renameat2 is declared only with _GNU_SOURCE, which Swift's Glibc module does not define:
    /// look it up by name (glibc 2.28 and later) and call it through a C function pointer.
    private typealias Renameat2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    private static let renameat2: Renameat2? = dlsym(nil, "renameat2").map { unsafeBitCast($0, to: Renameat2.self) }
    private static let renameNoReplace: UInt32 = 1  // RENAME_NOREPLACE, <linux/fs.h>

    /// Moves `source` to `target` only if `target` does not exist, atomically: two processes
    /// racing for one target cannot both succeed. `useRenameat2: false` tests the fallback.
    static func moveWithoutReplacing(_ source: String, to target: String, useRenameat2: Bool = true) -> MoveOutcome {
        if useRenameat2, let renameat2 {
            if renameat2(AT_FDCWD, source.pathCString, AT_FDCWD, target.pathCString, renameNoReplace) == 0 { return .moved }
            let code = errno
            // EINVAL: this filesystem does not support the flag; ENOSYS: nor the kernel.
            guard code == EINVAL || code == ENOSYS else { return code == EEXIST ? .targetExists : .failed(code) }
        }
        // link() refuses an existing name; the temporary name is then unlinked.
        if link(source.pathCString, target.pathCString) == 0 {
            unlink(source.pathCString)
            return .moved
        }
        let code = errno
        guard code == EPERM || code == ENOTSUP || code == ENOSYS else {
            return code == EEXIST ? .targetExists : .failed(code)
        }
        // No hard links here either (FAT, some FUSE filesystems): check, then rename. Not atomic;
        // the last resort.
        if exists(target) { return .targetExists }
        return rename(source.pathCString, target.pathCString) == 0 ? .moved : .failed(errno)
    }

    func discard() {
        guard !done else { return }
        done = true
        fclose(file)
        unlink(tempPath.pathCString)
        close(lockHolder)
        if let slot { InFlightRegistry.shared.unregister(slot) }
        slot = nil
    }
}
