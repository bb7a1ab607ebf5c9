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
}
