// The memory budget: byte sizes as people write them ("512M", "4G"), the default, and the one
// check every whole-image buffer and every file's estimate passes.
//
// The budget of one file is the lowest of:
//   --max-memory, when given; else half the physical memory, and half the memory limit of this
//   process's control group (a container's limit: past it the kernel kills the process instead of
//   refusing a file);
//   what the address-space limit (RLIMIT_AS, `ulimit -v`, a batch scheduler's h_vmem) leaves: the
//   limit less what the process has mapped already (VmSize), less a stack for each worker thread
//   still to start, less an eighth (at least 16 MiB) for what the estimate does not count (small
//   allocations, the heap's fragmentation, TTA's copies). Past that limit an allocation fails, and
//   a failed Swift allocation is a crash: so a file whose estimate is over it is refused before
//   anything image-sized is allocated.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum MemoryBudget {
    /// Where a budget comes from: what to raise to get a larger one.
    public enum Source: Sendable, Equatable {
        case option, physicalMemory, controlGroup, addressSpace
        /// A byte count a caller passed on (`DecodeOptions.maxMemory`), its origin not known here.
        case given
    }

    /// A budget in bytes and what set it.
    public struct Limit: Sendable, Equatable {
        public var bytes: Int
        public var source: Source
        public init(bytes: Int, source: Source) {
            self.bytes = bytes
            self.source = source
        }

        /// "the memory budget of 2 GB (--max-memory)", for messages.
        public var phrase: String {
            let size = MemoryBudget.format(bytes)
            switch source {
            case .option: return "the memory budget of \(size) (--max-memory)"
            case .physicalMemory: return "the memory budget of \(size) (half the physical memory)"
            case .controlGroup: return "the memory budget of \(size) (half the memory limit of this container or control group)"
            case .addressSpace: return "the \(size) of memory the address-space limit (ulimit -v) leaves this process"
            case .given: return "the memory budget of \(size)"
            }
        }
    }

    /// The one over-budget refusal: `what` ("upscaling this 30000×30000 image") needs `needs`
    /// ("about 2.7 GB", or an estimate's breakdown), over `budget`, which the error carries so that
    /// the caller's advice can name what to raise.
    static func refusal(_ what: String, needs: String, budget: Limit, path: String,
                        side: ImageIOError.Side = .input) -> ImageIOError {
        ImageIOError(path: path, message: "\(what) needs \(needs), over \(budget.phrase)", kind: .overMemoryBudget,
                     side: side, budget: budget)
    }

    /// The budget of one file (the lowest of the sources above) with `threads` workers, measured now.
    public static func limit(option: Int?, threads: Int) -> Limit {
        var limit = option.map { Limit(bytes: $0, source: .option) } ?? defaultLimit()
        if let left = addressSpaceLeft(threads: threads), left < limit.bytes {
            limit = Limit(bytes: left, source: .addressSpace)
        }
        return limit
    }

    /// The default budget with the machine's core count as workers (`limit(option: nil, ...)`).
    public static var defaultBytes: Int { limit(option: nil, threads: Threading.coreCount).bytes }

    /// Half the physical memory, or of the memory limit of this process's control group when that
    /// is lower. Half of 2 GiB when the physical memory cannot be read. Read once per process (a
    /// `DecodeOptions()` is made per image): neither changes while it runs.
    static func defaultLimit() -> Limit { machineLimit }

    private static let machineLimit = readMachineLimit()

    private static func readMachineLimit() -> Limit {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        var limit = Limit(bytes: pages > 0 && pageSize > 0 && !pages.multipliedReportingOverflow(by: pageSize).overflow
                          ? pages * pageSize / 2 : 1 << 30, source: .physicalMemory)
        for limitFile in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {  // cgroup v2, v1
            if let text = try? String(contentsOfFile: limitFile, encoding: .utf8),
               let bytes = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes > 0, bytes / 2 < limit.bytes {
                limit = Limit(bytes: bytes / 2, source: .controlGroup)
            }
        }
        return limit
    }

    /// What the address-space limit leaves for one file's buffers, run on `threads` workers: the
    /// soft RLIMIT_AS less the bytes mapped now (VmSize) less a stack for each thread the run may
    /// still start (the workers, the band writer, and two more that Dispatch may add to its pool
    /// when the machine is busy: a run at 164 MiB under a loaded test run once died allocating 4 MB
    /// that a loaded-free run had room for), less an eighth of the rest (at least 16 MiB) for what
    /// the estimate does not count; never below zero. Nil when there is no limit, or what is mapped
    /// cannot be read.
    public static func addressSpaceLeft(threads: Int) -> Int? {
        guard let limit = ProcessMemory.softLimit(RLIMIT_AS), let status = ProcessMemory.status() else { return nil }
        let newThreads = max(0, threads + 4 - status.threads)
        let left = limit - status.mappedBytes - newThreads * ProcessMemory.threadStackBytes
        return max(0, left - max(16 << 20, left / 8))
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
        throw refusal(what, needs: "about \(format(bytes))", budget: Limit(bytes: budget, source: .given), path: path)
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
