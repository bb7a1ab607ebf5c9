/// Process-wide allocator policy for a program that upscales one image after another.
public enum ProcessMemory {
    /// Largest block glibc's malloc hands out from its heap instead of a fresh mapping (glibc's own
    /// upper limit for this setting on 64-bit).
    static let heapBlockLimit = 32 << 20

    /// Makes glibc's malloc keep freed memory for the next allocation instead of returning it to the
    /// kernel. The streaming path allocates each band's planes afresh (a few MiB each); by default
    /// glibc maps and unmaps blocks that large, so every band faulted in pages the kernel had to zero
    /// again: 62k page faults and about a tenth of the CPU time of a 1920×1080 ×2 run. With freed
    /// blocks kept, the second band on reuses the first band's pages (25k faults). Peak memory does
    /// not grow: the bands are the same size. Call once, before the work starts; a no-op off glibc.
    public static func keepFreedMemory() {
        #if os(Linux)
        _ = glibcMallopt(glibcMmapThreshold, Int32(heapBlockLimit))
        _ = glibcMallopt(glibcTrimThreshold, Int32.max)
        #endif
    }
}

#if os(Linux)
// <malloc.h>, which Swift's Glibc module does not import: int mallopt(int param, int value), and
// the parameter numbers M_TRIM_THRESHOLD (-1) and M_MMAP_THRESHOLD (-3).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
private let glibcTrimThreshold: Int32 = -1
private let glibcMmapThreshold: Int32 = -3
#endif
