// Memory support: a hint to back large fresh buffers with huge pages.

#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel to back the untouched buffer `memory` with 2 MiB pages where it can
/// (transparent huge pages in "madvise" mode): a freshly allocated output of tens of MiB otherwise
/// costs one page fault per 4 KiB when the kernel first writes it, which measured more than the
/// arithmetic of small layers (fsrcnn_first: 116 MiB of output). A hint only; failures are ignored.
func adviseHugePages(_ memory: UnsafeMutableRawBufferPointer) {
    #if os(Linux)
    let hugePage = 2 << 20
    guard memory.count >= 2 * hugePage, let base = memory.baseAddress else { return }
    let start = (Int(bitPattern: base) + hugePage - 1) & ~(hugePage - 1)
    let end = (Int(bitPattern: base) + memory.count) & ~(hugePage - 1)
    if end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) {
        _ = madvise(aligned, end - start, MADV_HUGEPAGE)
    }
    #endif
}
