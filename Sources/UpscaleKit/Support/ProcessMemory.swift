#if canImport(Glibc)
import Glibc
#endif

/// Process-wide allocator policy for a program that upscales one image after another.
public enum ProcessMemory {
    /// Largest block glibc's malloc hands out from its heap instead of a fresh mapping (glibc's own
    /// upper limit for this setting on 64-bit).
    static let heapBlockLimit: Int32 = 32 << 20

    /// Makes glibc's malloc keep freed memory for the next allocation instead of returning it to the
    /// kernel. The streaming path allocates each band's planes afresh (a few MiB each); by default
    /// glibc maps and unmaps blocks that large, so every band faulted in pages the kernel had to zero
    /// again: 62k page faults and about a tenth of the CPU time of a 1920×1080 ×2 run. With freed
    /// blocks kept, the second band on reuses the first band's pages (26k faults). The resident
    /// size stays at the heap's high-water mark, which does not grow with the image height (the
    /// bands are the same size). Call once, before the work starts; a no-op off glibc.
    public static func keepFreedMemory() {
        #if canImport(Glibc)
        // mallopt is declared in <malloc.h>, which Swift's Glibc module does not import: look it
        // up by name and call it through a C function pointer.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let (trimThreshold, mmapThreshold): (Int32, Int32) = (-1, -3)   // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
        _ = mallopt(mmapThreshold, heapBlockLimit)
        _ = mallopt(trimThreshold, Int32.max)
        #endif
    }

    /// Under an address-space limit (`ulimit -v`): one malloc arena for every thread. glibc
    /// otherwise reserves 64 MiB of address space for a thread's own arena when the thread first
    /// allocates, which the memory budget (measured from what is mapped when a file starts) cannot
    /// foresee. Call first thing, before any thread starts (a dispatch source starts one); a no-op
    /// without the limit or off glibc.
    public static func shareOneArenaUnderAddressLimit() {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard softLimit(RLIMIT_AS) != nil, let symbol = dlsym(nil, "mallopt") else { return }
        let arenaMax: Int32 = -8  // M_ARENA_MAX
        _ = unsafeBitCast(symbol, to: Mallopt.self)(arenaMax, 1)
        #endif
    }

    /// What /proc/self/status says of this process: the bytes of address space mapped (VmSize)
    /// and the number of threads. Nil when it cannot be read (not Linux).
    static func status() -> (mappedBytes: Int, threads: Int)? {
        guard let text = FileSystem.contents("/proc/self/status").map({ String(decoding: $0, as: UTF8.self) }) else { return nil }
        var mapped: Int?, threads: Int?
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.first == "VmSize:", fields.count >= 2, let kB = Int(fields[1]) { mapped = kB * 1024 }
            if fields.first == "Threads:", fields.count >= 2 { threads = Int(fields[1]) }
        }
        guard let mapped, let threads else { return nil }
        return (mapped, threads)
    }

    /// The address space a new thread's stack takes: the stack limit (`ulimit -s`, glibc's
    /// default size for new threads) or, when that is unlimited, 32 MiB; and a guard page.
    static var threadStackBytes: Int {
        (softLimit(RLIMIT_STACK) ?? 32 << 20) + Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The soft limit on `resource` (getrlimit), nil when there is none (RLIM_INFINITY).
    static func softLimit(_ resource: __rlimit_resource) -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(resource.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return Int(clamping: limit.rlim_cur)
    }
}
