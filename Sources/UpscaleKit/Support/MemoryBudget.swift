// The memory budget: byte sizes as people write them ("512M", "4G"), the default (half the
// physical memory), and the one check every whole-image buffer and every file's estimate passes.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum MemoryBudget {
    /// Half the physical memory, or of the memory limit of this process's control group when that
    /// is lower (a container's limit: past it the kernel kills the process instead of refusing a
    /// file). 1 GiB when neither can be read.
    public static var defaultBytes: Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        var memory = pages > 0 && pageSize > 0 && !pages.multipliedReportingOverflow(by: pageSize).overflow
            ? pages * pageSize : 2 << 30
        for limitFile in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {  // cgroup v2, v1
            if let text = try? String(contentsOfFile: limitFile, encoding: .utf8),
               let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit > 0 {
                memory = min(memory, limit)
            }
        }
        return memory / 2
    }

    /// Bytes from "1048576", "512K", "512M", "4G", "1T" (binary units: K = 1024; any case; an
    /// optional trailing "B" or "iB": "4GB", "4GiB"). Nil for anything else, zero, or an overflow.
    public static func parse(_ text: String) -> Int? {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        for suffix in ["ib", "b"] where digits.lowercased().hasSuffix(suffix) && digits.count > suffix.count {
            digits = digits.dropLast(suffix.count)
            break
        }
        var shift = 0
        if let last = digits.last, let power = ["k": 10, "m": 20, "g": 30, "t": 40][last.lowercased()] {
            shift = power
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
              let value = Int(digits), value > 0, value <= Int.max >> shift else { return nil }
        return value << shift
    }

    /// "2.7 GB", "512 MB", "900 KB", "12 B" (binary units, as `parse` reads them).
    public static func format(_ bytes: Int) -> String {
        let units: [(String, Int)] = [("TB", 40), ("GB", 30), ("MB", 20), ("KB", 10)]
        for (name, shift) in units where bytes >= 1 << shift {
            let value = Double(bytes) / Double(1 << shift)
            return value >= 100 || value == value.rounded() ? "\(Int(value.rounded())) \(name)"
                : "\((value * 10).rounded() / 10) \(name)"
        }
        return "\(bytes) B"
    }

    /// Throws `ImageIOError(kind: .overMemoryBudget)` naming `path` when `bytes` > `budget`;
    /// `what` says what would hold them ("the decoded image", "upscaling this 30000×30000 image").
    public static func check(_ bytes: Int, budget: Int, path: String, what: String) throws {
        guard bytes > budget else { return }
        throw ImageIOError(path: path, message: "\(what) needs about \(format(bytes)), over the memory budget of "
                           + "\(format(budget)); raise the budget if the machine has the memory",
                           kind: .overMemoryBudget)
    }

    /// `count` bytes from malloc, not touched (pages are mapped as they are written, so a file whose
    /// data ends early costs what it wrote). Throws instead of trapping when malloc says no.
    static func allocate(_ count: Int, path: String) throws -> UnsafeMutableRawPointer {
        guard let pointer = malloc(max(1, count)) else {
            throw ImageIOError(path: path, message: "cannot allocate \(format(count)) for the image",
                               kind: .overMemoryBudget)
        }
        return pointer
    }
}
