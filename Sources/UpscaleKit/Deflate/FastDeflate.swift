// The PNG image data (the zlib stream of the IDAT chunks) for `PNGEncoder.fastDeflate`: every
// row Paeth-filtered, then deflate blocks (RFC 1950/1951) with Huffman codes fitted to each
// block's bytes, coded with zero runs only or, where samples show it pays, a greedy,
// one-candidate match search (`DeflateBlock`).
//
// Why: zlib's deflate is the slowest stage of writing an upscaled photo. Its careful string
// matching buys little on photos, whose filtered bytes rarely repeat, while Paeth leaves small
// residuals that a per-block Huffman code packs well; flat areas become runs of zeros and repeated
// patterns repeated residuals, which the cheap match search still finds. On upscaled images the
// files are smaller than zlib level 2 with the "up" filter (the CLI's setting before) and written
// faster (BENCHMARKS.md, "PNG encoding"). Any inflater reads it: it is ordinary deflate.

/// Encodes an image's rows, band by band, into a zlib stream. Feed every row once, in order, with
/// `append`; `finish` ends the stream. Each call hands the whole bytes of the stream it produced to
/// its `output` (the bits of an unfinished byte wait for the next call). Blocks start every
/// `blockBytes` bytes of the filtered stream, wherever the bands end, so the stream does not depend
/// on how the rows were split into bands. Its working memory is kept from band to band.
///
/// Rows are filtered straight into the blocks being filled (`staged`, one block per worker), and
/// each block is checksummed and coded while it is still in cache: no band-sized filtered copy.
///
/// Each block is tokenized and Huffman-coded from its own bytes only (the match search never looks
/// before the block's first byte), so the blocks a band completes can be coded on `threads`
/// workers, each into a bit writer of its own, and joined in order: the stream is the same bytes
/// for any number of threads.
final class FastDeflateEncoder {
    let rowBytes: Int
    let bytesPerPixel: Int
    /// Workers coding blocks; 1: every block coded on the calling thread, straight into the stream.
    let threads: Int
    /// Filtered bytes per deflate block: a block's code adapts to its part of the image; the code
    /// itself costs about 100 bytes.
    static let blockBytes = 1 << 20

    private var previousRow: [UInt8]   // the last row appended (zeros before the first)
    /// Filtered bytes not yet coded, from the first byte of a block: room for `threads` blocks and
    /// one more filtered row (a row that crosses the last block's end). `stagedCount` are used.
    private let staged: UnsafeMutablePointer<UInt8>
    private var stagedCount = 0
    /// One per block coded at once (at most `threads`, made when first needed): a block's tokens,
    /// hash table and bits, and the bit writer its block is coded into before joining the stream.
    private var scratches: [DeflateBlock.Scratch] = []
    private var blockBits: [BitWriter] = []
    private var adler = Adler32()
    private var bits = BitWriter()
    private var started = false
    private var workers = 1   // for the blocks being coded: up to `threads`, 1 beside other work

    /// Rows of `rowBytes` bytes (samples as the PNG stores them), pixels of `bytesPerPixel` bytes
    /// (1 for 8-bit gray … 8 for 16-bit RGBA); blocks coded on up to `threads` workers.
    init(rowBytes: Int, bytesPerPixel: Int, threads: Int = 1) {
        precondition(rowBytes > 0 && bytesPerPixel > 0 && rowBytes % bytesPerPixel == 0, "row layout")
        self.rowBytes = rowBytes
        self.bytesPerPixel = bytesPerPixel
        self.threads = max(1, threads)
        previousRow = [UInt8](repeating: 0, count: rowBytes)
        staged = .allocate(capacity: self.threads * Self.blockBytes + rowBytes + 1)
    }

    deinit { staged.deallocate() }

    private func start() {
        if started { return }
        bits.put(0x0178, count: 16)   // CMF 0x78: deflate, 32 KiB window; FLG 0x01: fastest, check bits
        started = true
    }

    /// Filters and codes `rowCount` rows at `rows` (consecutive rows of `rowBytes`), the blocks on
    /// up to `min(threads, workers)` workers: 1 when another stage, such as the upscale loop's
    /// tile workers, has the other cores (`-j N` counts them). The stream's new bytes go to
    /// `output`, as they are coded; false from it stops the work and is returned.
    func append(rows: UnsafePointer<UInt8>, rowCount: Int, workers: Int = .max,
                output: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        self.workers = min(threads, max(1, workers))
        start()
        let lineBytes = rowBytes + 1
        for r in 0..<rowCount {
            // The filtered row, led by its filter type (4, Paeth), as the stream holds it.
            let line = staged + stagedCount
            let row = rows + r * rowBytes
            line[0] = 4
            previousRow.withUnsafeBufferPointer { previous in
                PaethFilter.apply(row: row, previous: r == 0 ? previous.baseAddress! : row - rowBytes,
                                  count: rowBytes, bytesPerPixel: bytesPerPixel, into: line + 1)
            }
            adler.update(UnsafeBufferPointer(start: line, count: lineBytes))
            stagedCount += lineBytes
            if stagedCount >= self.workers * Self.blockBytes {
                guard codeStaged(blocks: stagedCount / Self.blockBytes, output: output) else { return false }
            }
        }
        if rowCount > 0 {
            previousRow.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: rows + (rowCount - 1) * rowBytes, count: rowBytes) }
        }
        // The band's whole blocks are coded now (as before, when the band ends); a partial one waits.
        return codeStaged(blocks: stagedCount / Self.blockBytes, output: output)
    }

    /// Codes the first `blocks` whole blocks of `staged` onto the stream, hands the stream's whole
    /// bytes to `output`, and moves the staged bytes after those blocks (less than a block) to the front.
    private func codeStaged(blocks: Int, output: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        guard blocks > 0 else { return true }
        code((0..<blocks).map { UnsafeBufferPointer(start: staged + $0 * Self.blockBytes, count: Self.blockBytes) })
        let coded = blocks * Self.blockBytes
        UnsafeMutableRawPointer(staged).copyMemory(from: staged + coded, byteCount: stagedCount - coded)
        stagedCount -= coded
        return bits.drain(output)
    }

    /// Codes `blocks`, in order, onto the stream. With one worker (or one block) each is coded
    /// straight into the stream. Otherwise `workers` blocks at a time: item k of a group owns block
    /// k of the group, `scratches[k]` and `blockBits[k]`, so no two workers write the same memory;
    /// then the group's bits are joined onto the stream in order, on this thread.
    private func code(_ blocks: [UnsafeBufferPointer<UInt8>]) {
        guard !blocks.isEmpty else { return }
        let workers = min(self.workers, blocks.count)
        while scratches.count < workers {
            scratches.append(DeflateBlock.Scratch(blockBytes: Self.blockBytes))
            blockBits.append(BitWriter())
        }
        if workers == 1 {
            for block in blocks { DeflateBlock.write(block, scratch: scratches[0], into: &bits) }
            return
        }
        let scratches = self.scratches
        for first in stride(from: 0, to: blocks.count, by: workers) {
            let group = first..<min(blocks.count, first + workers)
            blockBits.withUnsafeMutableBufferPointer { blockBits in
                parallelFor(group.count, threads: workers) { k in
                    DeflateBlock.write(blocks[group.lowerBound + k], scratch: scratches[k], into: &blockBits[k])
                }
            }
            for k in 0..<group.count { bits.append(&blockBits[k]) }
        }
    }

    /// Ends the stream: the last, partial block, an empty final block, then the Adler-32 of the
    /// filtered bytes; its bytes go to `output` (false from it is returned).
    func finish(output: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        start()
        workers = 1
        if stagedCount > 0 { code([UnsafeBufferPointer(start: staged, count: stagedCount)]) }
        stagedCount = 0
        bits.put(0b011, count: 3)   // BFINAL = 1, BTYPE = 01 (fixed codes)
        bits.put(0, count: 7)       // end of block: code 256 is 7 zero bits
        bits.alignToByte()
        let check = adler.value
        for shift in [24, 16, 8, 0] { bits.put(UInt64((check >> UInt32(shift)) & 0xFF), count: 8) }
        return bits.drain(output)
    }
}

/// PNG filter type 4: each byte minus the Paeth predictor of its left (a), upper (b) and upper-left
/// (c) neighbours in the same byte position of the pixel before (PNG spec, section 9.4).
///
/// 16 bytes at a time in byte lanes, with no widening: pa = |b − c| and pb = |a − c| fit a byte,
/// and pc = |(a − c) + (b − c)| is pa + pb where a − c and b − c have the same sign, else |pa − pb|;
/// the sum is saturated at 255, which keeps every comparison with pa and pb (both ≤ 255) as it was.
/// 16 lanes, not 32: the optimizer turns comparisons and selects of 16 lanes into vector
/// instructions, but left those of 32 lanes a loop over the lanes (30× slower, measured).
enum PaethFilter {
    typealias Bytes = SIMD16<UInt8>

    static func apply(row: UnsafePointer<UInt8>, previous: UnsafePointer<UInt8>, count: Int, bytesPerPixel bpp: Int,
                      into out: UnsafeMutablePointer<UInt8>) {
        // The first pixel has no left neighbour: a = c = 0, so the predictor is b.
        for i in 0..<min(bpp, count) { out[i] = row[i] &- previous[i] }
        var i = bpp
        while i &+ Bytes.scalarCount <= count {
            let x = UnsafeRawPointer(row + i).loadUnaligned(as: Bytes.self)
            let a = UnsafeRawPointer(row + i - bpp).loadUnaligned(as: Bytes.self)
            let b = UnsafeRawPointer(previous + i).loadUnaligned(as: Bytes.self)
            let c = UnsafeRawPointer(previous + i - bpp).loadUnaligned(as: Bytes.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: x &- predictor(a, b, c), as: Bytes.self)
            i &+= Bytes.scalarCount
        }
        while i < count {
            let p = Self.predictor(Int16(row[i - bpp]), Int16(previous[i]), Int16(previous[i - bpp]))
            out[i] = row[i] &- UInt8(truncatingIfNeeded: p)
            i &+= 1
        }
    }

    /// p = a + b − c; whichever of a, b, c is nearest p, ties in that order.
    @inline(__always)
    static func predictor(_ a: Bytes, _ b: Bytes, _ c: Bytes) -> Bytes {
        let pa = distance(b, c), pb = distance(a, c)
        var sum = pa &+ pb
        sum.replace(with: 255, where: sum .< pa)   // saturated
        let pc = select(ones(a .< c) ^ ones(b .< c), distance(pa, pb), sum)
        let bOrC = b.replacing(with: c, where: pb .> pc)
        return select(ones(pa .<= pb) & ones(pa .<= pc), a, bOrC)
    }

    /// |x − y| per byte.
    @inline(__always)
    static func distance(_ x: Bytes, _ y: Bytes) -> Bytes { (x &- y).replacing(with: y &- x, where: x .< y) }

    /// 0xFF where `mask` is true, else 0.
    @inline(__always)
    static func ones(_ mask: SIMDMask<SIMD16<Int8>>) -> Bytes { Bytes(repeating: 0).replacing(with: 0xFF, where: mask) }

    /// x where `mask` is 0xFF, y where it is 0.
    @inline(__always)
    static func select(_ mask: Bytes, _ x: Bytes, _ y: Bytes) -> Bytes { (x & mask) | (y & ~mask) }

    @inline(__always)
    static func predictor(_ a: Int16, _ b: Int16, _ c: Int16) -> Int16 {
        let pa = Swift.abs(b - c), pb = Swift.abs(a - c), pc = Swift.abs(a + b - 2 * c)
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }
}

/// One deflate block with dynamic Huffman codes (BTYPE = 10), coded one of two ways:
/// - runs: literals, and runs of zeros as matches at distance 1, found 8 bytes at a time; the
///   literals are coded straight from the block's bytes. Paeth turns flat areas and smooth
///   gradients into runs of zero residuals, and photo residuals rarely repeat otherwise.
/// - matched: literals and matches found greedily at the last match's distance or through a
///   hash of the next 4 bytes at anchor positions (one candidate per hash, the most recent, within
///   the block and the 32 KiB window), probed less often after a stretch without matches; the
///   literals are coded straight from the bytes, as in runs. Images tiled or resized from smaller
///   ones repeat their residual patterns at long distances, which only this finds.
/// Each block takes runs unless, on samples of it, matched codes them more than `runsSlack`
/// smaller (`prefersRuns`).
enum DeflateBlock {
    /// Longest code deflate allows for literals, lengths and distances, and for the code-length code.
    static let maxBits = 15, maxCodeLengthBits = 7
    /// Longest literal/length code we make (deflate allows 15): four literal codes and the 7 bits
    /// a flush leaves fit one 64-bit word (`BitWriter.putBlock`).
    static let literalBits = 14
    /// Shortest match we take (4, the hash's width; deflate allows 3) and longest deflate codes.
    static let minMatch = 4, maxMatch = 258
    /// Farthest match deflate codes.
    static let window = 32_768
    /// Hash table size (log2).
    static let hashBits = 15
    /// Only positions whose hash has its top `anchorBits` bits zero (1 in 16) are looked up and
    /// entered in the table: the choice depends on the 4 bytes alone, so both copies of a repeated
    /// string are chosen alike, whatever the distance between them.
    static let anchorBits: UInt32 = 4
    /// The search probes every byte until 2^skipShift positions in a row found no match, then
    /// every 2nd, every 3rd … byte, at most every `maxSkip`th (as LZ4 and Snappy do).
    static let skipShift = 5, maxSkip = 8
    /// Runs: the shortest piece of a run coded as a match (deflate's shortest), and the scan's step;
    /// a run of zeros is found where a step's 8-byte word is zero, then extended both ways, so every
    /// run of 15 or more zeros is found, shorter ones may be.
    static let minRunPiece = 3, wordBytes = 8
    /// The choice between the coders: `sampleSlices` slices of `sampleBytes` bytes spread over the
    /// block, and how much larger (in percent) the runs coder may code them than the matched one.
    /// A slice spans more than the 32 KiB window, so that matches one row up (a 4K-wide RGB row is
    /// 23 KB) are seen: with 16 KiB slices an x4 output of a resized photo chose runs, 23% larger.
    static let sampleSlices = 2, sampleBytes = 65_536, runsSlack = 5
    /// The runs coder's literal code is fitted to `literalSlices` slices of `literalSliceBytes`
    /// spread evenly over a block larger than their total. A block spans ~45 rows of a 4K-wide
    /// RGB image and all of a 1024² gray one, whose parts differ: fitted to the two slices above,
    /// at the block's start and middle, a gray photo whose lower part is textured came out 12%
    /// larger.
    static let literalSlices = 16, literalSliceBytes = 8_192

    /// Working memory for blocks of up to `blockBytes` bytes: the tokens, the hash table, and room
    /// for the block's bits.
    final class Scratch {
        let blockBytes: Int
        let tokens: UnsafeMutablePointer<UInt32>
        let heads: UnsafeMutablePointer<Int32>
        let bytes: UnsafeMutablePointer<UInt8>
        let runs: UnsafeMutablePointer<UInt32>
        /// Each run piece covers at least `minRunPiece` bytes and follows a literal zero.
        static func runCapacity(bytes count: Int) -> Int { 3 * (count / DeflateBlock.minRunPiece + 1) }
        static func outputBound(tokens: Int) -> Int { (tokens * 48 + 32) / 8 + 8 }   // ≤ 48 bits per token

        /// Bytes one more worker of a parallel encoder holds: its staged block, its scratch and its
        /// block's coded bits.
        static var workerBytes: Int {
            let blockBytes = FastDeflateEncoder.blockBytes
            return blockBytes + blockBytes * MemoryLayout<UInt32>.size + (1 << DeflateBlock.hashBits) * MemoryLayout<Int32>.size
                + 2 * outputBound(tokens: blockBytes) + runCapacity(bytes: blockBytes) * MemoryLayout<UInt32>.size
        }

        init(blockBytes: Int) {
            self.blockBytes = blockBytes
            tokens = .allocate(capacity: blockBytes)
            heads = .allocate(capacity: 1 << DeflateBlock.hashBits)
            bytes = .allocate(capacity: Self.outputBound(tokens: blockBytes))
            runs = .allocate(capacity: Self.runCapacity(bytes: blockBytes))
        }

        deinit { tokens.deallocate(); heads.deallocate(); bytes.deallocate(); runs.deallocate() }
    }

    /// Codes `data` as one block, never the final one: `FastDeflateEncoder.finish` ends the stream
    /// with an empty final block. The coder, and its literal code, come from samples of the block.
    static func write(_ data: UnsafeBufferPointer<UInt8>, scratch: Scratch, into bits: inout BitWriter) {
        guard !data.isEmpty else { return }
        precondition(data.count <= scratch.blockBytes, "a block larger than its scratch")
        let sample = Sample(data, scratch: scratch)
        if sample.prefersRuns {
            writeRuns(data, literalCounts: sample.runLiterals, scratch: scratch, into: &bits)
        } else {
            writeMatched(data, literalCounts: sample.matchedLiterals, scratch: scratch, into: &bits)
        }
    }

    /// What samples of a block say, read once per block: `sampleSlices` slices of `sampleBytes`
    /// spread over it (of a block under twice that: its halves, all of it), each coded by both
    /// coders, and `literalSlices` small ones for the runs coder's literal code. No coder counts
    /// the whole block's bytes: a code fitted to an eighth of a photo's block codes the block
    /// about as well as one fitted to all of it.
    struct Sample {
        /// The byte values each coder leaves as literals in samples (the runs coder: all but the
        /// zeros its runs cover, in the `literalSlices`, or in the slices above when the block is
        /// no larger than those; the matched one: all but the bytes its matches cover, in the
        /// slices above that were searched), scaled to the whole block and each at least 1: every
        /// byte value gets a code, since one the samples lack may occur elsewhere in the block.
        var runLiterals: [Int], matchedLiterals: [Int]
        /// Whether the runs coder codes the slices at most `runsSlack` percent larger than the
        /// matched one, by the bits of each coder's Huffman code fitted to the slices' symbols;
        /// or codes the first slice no larger (the other slices are then not searched). Blocks of
        /// under 128 bytes take runs without a search.
        var prefersRuns: Bool

        init(_ data: UnsafeBufferPointer<UInt8>, scratch: Scratch) {
            let bytes = data.baseAddress!
            let searched = data.count / sampleSlices >= 64
            let (slices, slice) = searched ? (sampleSlices, min(sampleBytes, data.count / sampleSlices)) : (1, data.count)
            // Counts in 4 × 256 tables (`addHistogram`): the slices' bytes, and the bytes matches cover.
            var sampled = [UInt32](repeating: 0, count: 4 * 256), covered = [UInt32](repeating: 0, count: 4 * 256)
            var runCounts = [Int](repeating: 0, count: 286), runPieces = 0
            var counts = [Int](repeating: 0, count: 286), distanceCounts = [Int](repeating: 0, count: 30)
            var searching = searched
            /// Both coders' literal counts: the slices' bytes, less the zeros the runs cover (which
            /// findRuns took off `runCounts[0]`), less the bytes the matches cover.
            func literalCounts() -> (runs: [Int], matched: [Int]) {
                var (runs, matched) = (runCounts, counts)
                let (all, matchedOver) = (histogramSums(sampled), histogramSums(covered))
                for b in 0..<256 {
                    runs[b] += all[b]
                    matched[b] += all[b] - matchedOver[b]
                }
                return (runs, matched)
            }
            /// Whether runs code the slices so far at most `slack` percent larger than matches.
            func runsWin(slack: Int) -> Bool {
                let (runs, matched) = literalCounts()
                let runBits = codedBits(runs, maxBits: literalBits, extraBits: lengthExtraBits) + runPieces
                let matchedBits = codedBits(matched, maxBits: literalBits, extraBits: lengthExtraBits)
                    + codedBits(distanceCounts, maxBits: maxBits, extraBits: distanceExtraBits)
                return runBits * 100 <= matchedBits * (100 + slack)
            }
            let spreadLiterals = data.count > literalSlices * literalSliceBytes
            for k in 0..<slices {
                // Once runs have won, a slice not searched serves only a small block's literal code.
                if k > 0 && !searching && spreadLiterals { break }
                let sliceBytes = bytes + k * (data.count / slices)
                sampled.withUnsafeMutableBufferPointer { addHistogram(sliceBytes, count: slice, into: $0.baseAddress!) }
                runPieces += findRuns(sliceBytes, count: slice, into: scratch.runs, counts: &runCounts)
                guard searching else { continue }
                covered.withUnsafeMutableBufferPointer {
                    _ = findMatches(sliceBytes, count: slice, scratch: scratch, counts: &counts,
                                    distanceCounts: &distanceCounts, covered: $0.baseAddress!)
                }
                // Runs that win the first slice outright (as on photos) win the block: the search,
                // the sample's costliest part, stops there.
                if k == 0 && slices > 1 && runsWin(slack: 0) { searching = false }
            }
            func scaled(_ counts: [Int], sampledBytes: Int) -> [Int] {
                counts[0..<256].map { max(1, $0 * data.count / sampledBytes) }
            }
            let (runs, matched) = literalCounts()
            let sampledBytes = (searching || !spreadLiterals ? slices : 1) * slice   // the slices read
            matchedLiterals = scaled(matched, sampledBytes: sampledBytes)
            prefersRuns = !searching || runsWin(slack: runsSlack)
            guard spreadLiterals else {
                runLiterals = scaled(runs, sampledBytes: sampledBytes)
                return
            }
            var spread = [UInt32](repeating: 0, count: 4 * 256), spreadRuns = [Int](repeating: 0, count: 286)
            for k in 0..<literalSlices {
                let sliceBytes = bytes + k * (data.count / literalSlices)
                spread.withUnsafeMutableBufferPointer { addHistogram(sliceBytes, count: literalSliceBytes, into: $0.baseAddress!) }
                _ = findRuns(sliceBytes, count: literalSliceBytes, into: scratch.runs, counts: &spreadRuns)
            }
            for (b, n) in histogramSums(spread).enumerated() { spreadRuns[b] += n }
            runLiterals = scaled(spreadRuns, sampledBytes: literalSlices * literalSliceBytes)
        }
    }

    /// The bits of `counts` symbols in the Huffman code fitted to them, with their extra bits.
    static func codedBits(_ counts: [Int], maxBits: Int, extraBits: (Int) -> Int) -> Int {
        let lengths = HuffmanCode.lengths(counts: counts, maxBits: maxBits)
        return counts.indices.reduce(0) { $0 + counts[$1] * (lengths[$1] + extraBits($1)) }
    }

    /// Extra bits of literal/length symbol `s` and of distance symbol `s` (RFC 1951, 3.2.5).
    static func lengthExtraBits(_ s: Int) -> Int { (265...284).contains(s) ? (s - 261) / 4 : 0 }
    static func distanceExtraBits(_ s: Int) -> Int { s >= 4 ? s / 2 - 1 : 0 }

    /// The matched coder: the matches the search finds, then the block's bytes as literals between
    /// them and each match as its length and distance codes. The literal code is fitted to
    /// `literalCounts` (256, every one at least 1: `Sample.matchedLiterals`).
    static func writeMatched(_ data: UnsafeBufferPointer<UInt8>, literalCounts: [Int], scratch: Scratch,
                             into bits: inout BitWriter) {
        precondition(literalCounts.count == 256 && !literalCounts.contains(0), "a code for every byte value")
        let bytes = data.baseAddress!
        var counts = literalCounts + [Int](repeating: 0, count: 30)   // literal/length symbols
        var distanceCounts = [Int](repeating: 0, count: 30)             // distance symbols
        let matchCount = findMatches(bytes, count: data.count, scratch: scratch, counts: &counts,
                                     distanceCounts: &distanceCounts, covered: nil)
        counts[256] = 1   // the end-of-block symbol, once
        let lengths = HuffmanCode.lengths(counts: counts, maxBits: literalBits)
        let codes = HuffmanCode.canonicalCodes(lengths: lengths)
        let distanceLengths = HuffmanCode.lengths(counts: distanceCounts, maxBits: maxBits)
        let distanceCodes = HuffmanCode.canonicalCodes(lengths: distanceLengths)
        let literalCount = max(257, (lengths.lastIndex { $0 > 0 } ?? 0) + 1)
        let distanceCount = max(1, (distanceLengths.lastIndex { $0 > 0 } ?? 0) + 1)
        bits.put(0b100, count: 3)   // BFINAL = 0, BTYPE = 10
        writeCodeLengths(Array(lengths[0..<literalCount]), distanceLengths: Array(distanceLengths[0..<distanceCount]),
                         into: &bits)
        // Literals' codes then their bit counts, by byte value; (value << 8 | bit count) of a
        // match's length code with its extra bits by length, of its distance code with its extra
        // bits by distance − 1.
        let literalTable = (0..<256).map { UInt64(codes[$0]) } + (0..<256).map { UInt64(lengths[$0]) }
        var lengthTable = [UInt64](repeating: 0, count: maxMatch + 1)
        var distanceTable = [UInt64](repeating: 0, count: window)
        if matchCount > 0 {
            for length in minRunPiece...maxMatch {
                let (symbol, extraBits, extra) = lengthSymbol(length)
                let value = UInt64(codes[symbol]) | UInt64(extra) << UInt64(lengths[symbol])
                lengthTable[length] = value << 8 | UInt64(lengths[symbol] + extraBits)
            }
            for distance in 1...window {
                let (symbol, extraBits, extra) = distanceSymbol(distance)
                guard distanceLengths[symbol] > 0 else { continue }
                let value = UInt64(distanceCodes[symbol]) | UInt64(extra) << UInt64(distanceLengths[symbol])
                distanceTable[distance - 1] = value << 8 | UInt64(distanceLengths[symbol] + extraBits)
            }
        }
        literalTable.withUnsafeBufferPointer { literals in
            lengthTable.withUnsafeBufferPointer { lengths in
                distanceTable.withUnsafeBufferPointer { distances in
                    bits.putBlock(bytes, count: data.count, matches: UnsafeBufferPointer(start: scratch.tokens, count: 3 * matchCount),
                                  literals: literals.baseAddress!, lengths: lengths.baseAddress!,
                                  distances: distances.baseAddress!, scratch: scratch.bytes)
                }
            }
        }
        bits.put(UInt64(codes[256]), count: lengths[256])
    }

    /// Finds matches in `count` bytes, greedily: at each probed position, first the last match's
    /// distance (a pattern that repeated once tends to go on repeating: no table to look in), then,
    /// at anchors only (`anchorBits`), the most recent earlier anchor in the block whose next 4
    /// bytes hashed the same; either counts when its 4 bytes are equal and it is within the window.
    /// A repeat is found at its first anchor and followed from there at the repeated distance, so
    /// looking up 1 position in 16 loses little (1% more bytes on the benchmark image, which
    /// repeats every 1 024 input pixels) and costs a sixteenth of the table's cache misses. Stores each match as
    /// (start, length, distance) in `scratch.tokens`, counts the matches' length and distance
    /// symbols, and adds the bytes the matches cover to `covered` (4 × 256 counts, as
    /// `addHistogram`) when given. Returns the number of matches.
    static func findMatches(_ data: UnsafePointer<UInt8>, count: Int, scratch: Scratch, counts: inout [Int],
                            distanceCounts: inout [Int], covered: UnsafeMutablePointer<UInt32>?) -> Int {
        let matches = scratch.tokens, heads = scratch.heads
        heads.update(repeating: -1, count: 1 << hashBits)
        var m = 0, i = 0, misses = 0, last = 0   // last: the previous match's distance, 0 before one
        @inline(__always) func load32(_ p: Int) -> UInt32 { UnsafeRawPointer(data + p).loadUnaligned(as: UInt32.self) }
        while i &+ minMatch <= count {
            let word = load32(i)
            var candidate = -1
            if last > 0 && i >= last && load32(i &- last) == word {
                candidate = i &- last
            } else {
                let hash = word &* 2_654_435_761
                if hash >> (32 - anchorBits) == 0 {   // an anchor: look it up, enter it
                    let h = Int(hash >> (32 - anchorBits - UInt32(hashBits)) & UInt32(1 << hashBits - 1))
                    let c = Int(heads[h])
                    heads[h] = Int32(truncatingIfNeeded: i)
                    if c >= 0 && i &- c <= window && load32(c) == word { candidate = c }
                }
            }
            if candidate >= 0 {
                // Extend 8 bytes at a time while they agree.
                let limit = min(count &- i, maxMatch)
                var length = minMatch
                while length &+ 8 <= limit {
                    let x = UnsafeRawPointer(data + (i &+ length)).loadUnaligned(as: UInt64.self)
                        ^ UnsafeRawPointer(data + (candidate &+ length)).loadUnaligned(as: UInt64.self)
                    if x != 0 { length &+= x.trailingZeroBitCount >> 3; break }
                    length &+= 8
                }
                if length &+ 8 > limit {
                    while length < limit && data[i &+ length] == data[candidate &+ length] { length &+= 1 }
                }
                let distance = i &- candidate
                // A short match far back costs more bits (length and distance codes with
                // extra bits, ~20–28) than the literals it replaces (photo residuals code
                // in 2–4 bits each). 12 and 16 measured best of 8/12 on six test images.
                if length >= 12 || distance <= 16 {
                    if let covered { addHistogram(data + i, count: length, into: covered) }
                    matches[3 &* m] = UInt32(i)
                    matches[3 &* m &+ 1] = UInt32(length)
                    matches[3 &* m &+ 2] = UInt32(distance)
                    counts[lengthSymbol(length).symbol] &+= 1
                    distanceCounts[distanceSymbol(distance).symbol] &+= 1
                    m &+= 1
                    i &+= length
                    last = distance
                    misses = 0
                    continue
                }
            }
            // A literal: after a stretch without matches the next few bytes are not probed
            // (photo residuals rarely match: probing every byte there is most of the search's
            // cost; a skipped anchor delays finding a repeat to a later one). A match resets
            // the stretch.
            misses &+= 1
            i &+= min(maxSkip, 1 &+ misses >> skipShift)
        }
        return m
    }

    /// The runs coder: the bytes as literals and the runs' pieces as matches, with a literal code
    /// fitted to `literalCounts` (256, every one at least 1: `Sample.runLiterals`).
    static func writeRuns(_ data: UnsafeBufferPointer<UInt8>, literalCounts: [Int], scratch: Scratch,
                          into bits: inout BitWriter) {
        precondition(literalCounts.count == 256 && !literalCounts.contains(0), "a code for every byte value")
        let bytes = data.baseAddress!
        var counts = [Int](repeating: 0, count: 286)   // literal/length symbols
        let pieceCount = findRuns(bytes, count: data.count, into: scratch.runs, counts: &counts)
        counts.replaceSubrange(0..<256, with: literalCounts)   // in place of the zeros findRuns moved
        counts[256] = 1   // the end-of-block symbol, once
        let lengths = HuffmanCode.lengths(counts: counts, maxBits: literalBits)
        let codes = HuffmanCode.canonicalCodes(lengths: lengths)
        // Every match is at distance 1: distance symbol 0 alone (a one-bit code), or none.
        let distanceLengths = pieceCount > 0 ? [1] : [0]
        let literalCount = max(257, (lengths.lastIndex { $0 > 0 } ?? 0) + 1)
        bits.put(0b100, count: 3)   // BFINAL = 0, BTYPE = 10
        writeCodeLengths(Array(lengths[0..<literalCount]), distanceLengths: distanceLengths, into: &bits)
        // Literals' codes then their bit counts, by byte value; (value << 8 | bit count) of a
        // match's length code with its extra bits by length, then distance code 0 (the bit 0).
        let literalTable = (0..<256).map { UInt64(codes[$0]) } + (0..<256).map { UInt64(lengths[$0]) }
        var lengthTable = [UInt64](repeating: 0, count: maxMatch + 1)
        if pieceCount > 0 {
            for length in minRunPiece...maxMatch {
                let (symbol, extraBits, extra) = lengthSymbol(length)
                let value = UInt64(codes[symbol]) | UInt64(extra) << UInt64(lengths[symbol])
                lengthTable[length] = value << 8 | UInt64(lengths[symbol] + extraBits)
            }
        }
        let distanceOne: [UInt64] = [1]   // code 0 (one 0 bit)
        literalTable.withUnsafeBufferPointer { literals in
            lengthTable.withUnsafeBufferPointer { lengths in
                distanceOne.withUnsafeBufferPointer { distances in
                    bits.putBlock(bytes, count: data.count, matches: UnsafeBufferPointer(start: scratch.runs, count: 3 * pieceCount),
                                  literals: literals.baseAddress!, lengths: lengths.baseAddress!,
                                  distances: distances.baseAddress!, scratch: scratch.bytes)
                }
            }
        }
        bits.put(UInt64(codes[256]), count: lengths[256])
    }

    /// The histogram that `addHistogram`'s four tables (4 × 256) hold: count b = the sum of the
    /// four tables' counts b.
    static func histogramSums(_ tables: [UInt32]) -> [Int] {
        (0..<256).map { Int(tables[$0]) + Int(tables[256 + $0]) + Int(tables[512 + $0]) + Int(tables[768 + $0]) }
    }

    /// Adds the byte values of `count` bytes to `tables` (4 × 256 counts whose sum is the histogram:
    /// four tables, so that repeated values do not wait on each other's increments).
    @inline(__always)
    static func addHistogram(_ data: UnsafePointer<UInt8>, count: Int, into t: UnsafeMutablePointer<UInt32>) {
        var i = 0
        while i &+ 8 <= count {
            let w = UnsafeRawPointer(data + i).loadUnaligned(as: UInt64.self)
            t[Int(w & 0xFF)] &+= 1
            t[256 &+ Int(w >> 8 & 0xFF)] &+= 1
            t[512 &+ Int(w >> 16 & 0xFF)] &+= 1
            t[768 &+ Int(w >> 24 & 0xFF)] &+= 1
            t[Int(w >> 32 & 0xFF)] &+= 1
            t[256 &+ Int(w >> 40 & 0xFF)] &+= 1
            t[512 &+ Int(w >> 48 & 0xFF)] &+= 1
            t[768 &+ Int(w >> 56)] &+= 1
            i &+= 8
        }
        while i < count { t[Int(data[i])] &+= 1; i &+= 1 }
    }

    /// Finds the runs of zeros in `count` bytes and stores them as matches at distance 1, each
    /// after the run's first zero (a literal, the byte the match copies): pieces of `minRunPiece` to
    /// `maxMatch` bytes as (start, length, distance 1) in `runs`; the 1 or 2 bytes a run has beyond
    /// whole pieces stay literals. Moves the zeros the pieces cover from `counts[0]` to their
    /// length symbols. Returns the number of pieces.
    static func findRuns(_ data: UnsafePointer<UInt8>, count: Int, into runs: UnsafeMutablePointer<UInt32>,
                         counts: inout [Int]) -> Int {
        @inline(__always) func word(_ p: Int) -> UInt64 { UnsafeRawPointer(data + p).loadUnaligned(as: UInt64.self) }
        var pieces = 0, covered = 0
        var i = 0, literalsFrom = 0   // bytes before literalsFrom are coded (literals or runs)
        counts.withUnsafeMutableBufferPointer { counts in
            while i &+ wordBytes <= count {
                // Four steps' words at once while none is zero (most of a photo's residuals).
                if i &+ 4 &* wordBytes <= count
                    && all(UnsafeRawPointer(data + i).loadUnaligned(as: SIMD4<UInt64>.self) .!= 0) {
                    i &+= 4 &* wordBytes
                    continue
                }
                if word(i) != 0 { i &+= wordBytes; continue }
                var start = i
                while start > literalsFrom && data[start &- 1] == 0 { start &-= 1 }
                var end = i &+ wordBytes
                while end &+ wordBytes <= count && word(end) == 0 { end &+= wordBytes }
                if end &+ wordBytes <= count {
                    end &+= word(end).trailingZeroBitCount >> 3
                } else {
                    while end < count && data[end] == 0 { end &+= 1 }
                }
                // data[start] stays a literal zero; the rest copies it.
                var from = start &+ 1
                while end &- from >= minRunPiece {
                    let n = min(end &- from, maxMatch)
                    runs[3 &* pieces] = UInt32(from)
                    runs[3 &* pieces &+ 1] = UInt32(n)
                    runs[3 &* pieces &+ 2] = 1
                    counts[lengthSymbol(n).symbol] &+= 1
                    pieces &+= 1
                    covered &+= n
                    from &+= n
                }
                literalsFrom = end
                i = end
            }
            counts[0] &-= covered
        }
        return pieces
    }

    /// The length code of a match length 3...258 (RFC 1951, 3.2.5): symbol, extra bits, their value.
    @inline(__always)
    static func lengthSymbol(_ length: Int) -> (symbol: Int, extraBits: Int, extra: Int) {
        if length == 258 { return (285, 0, 0) }
        if length < 11 { return (254 + length, 0, 0) }
        // Lengths 11...257: four codes per extra-bit count 1...5.
        let extraBits = (Int.bitWidth - 1 - (length - 3).leadingZeroBitCount) - 2
        let base = (4 + ((length - 3) >> extraBits & 3)) << extraBits   // (length − 3) rounded down
        return (261 + 4 * extraBits + ((length - 3) >> extraBits & 3), extraBits, length - 3 - base)
    }

    /// The distance code of a distance 1...32768 (RFC 1951, 3.2.5): symbol, extra bits, their value.
    @inline(__always)
    static func distanceSymbol(_ distance: Int) -> (symbol: Int, extraBits: Int, extra: Int) {
        let x = distance - 1
        if x < 4 { return (x, 0, 0) }
        // Two codes per extra-bit count 1...13.
        let top = Int.bitWidth - 1 - x.leadingZeroBitCount
        let half = x >> (top - 1) & 1
        return (2 * top + half, top - 1, x - ((2 + half) << (top - 1)))
    }

    /// HLIT, HDIST, HCLEN, the code-length code, then the literal/length and distance code lengths
    /// in the run-length alphabet of RFC 1951, 3.2.7.
    static func writeCodeLengths(_ literalLengths: [Int], distanceLengths: [Int], into bits: inout BitWriter) {
        let all = literalLengths + distanceLengths
        let runs = runLengthCoded(all)
        var counts = [Int](repeating: 0, count: 19)
        for run in runs { counts[run.symbol] += 1 }
        let lengths = HuffmanCode.lengths(counts: counts, maxBits: maxCodeLengthBits)
        let codes = HuffmanCode.canonicalCodes(lengths: lengths)
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        let hclen = max(4, (order.lastIndex { lengths[$0] != 0 } ?? 0) + 1)
        bits.put(UInt64(literalLengths.count - 257), count: 5)
        bits.put(UInt64(distanceLengths.count - 1), count: 5)
        bits.put(UInt64(hclen - 4), count: 4)
        for symbol in order.prefix(hclen) { bits.put(UInt64(lengths[symbol]), count: 3) }
        for run in runs {
            bits.put(UInt64(codes[run.symbol]), count: lengths[run.symbol])
            switch run.symbol {
            case 16: bits.put(UInt64(run.extra), count: 2)
            case 17: bits.put(UInt64(run.extra), count: 3)
            case 18: bits.put(UInt64(run.extra), count: 7)
            default: break
            }
        }
    }

    /// Code lengths as symbols 0–15 (a length), 16 (repeat the previous 3–6 times), 17 (3–10
    /// zeros), 18 (11–138 zeros), with their extra-bit values.
    static func runLengthCoded(_ lengths: [Int]) -> [(symbol: Int, extra: Int)] {
        var out: [(symbol: Int, extra: Int)] = []
        var i = 0
        while i < lengths.count {
            let value = lengths[i]
            var run = 1
            while i + run < lengths.count && lengths[i + run] == value { run += 1 }
            i += run
            if value == 0 {
                while run >= 11 { let n = min(run, 138); out.append((18, n - 11)); run -= n }
                if run >= 3 { out.append((17, run - 3)); run = 0 }
            } else {
                out.append((value, 0))
                run -= 1
                while run >= 3 { let n = min(run, 6); out.append((16, n - 3)); run -= n }
            }
            for _ in 0..<run { out.append((value, 0)) }
        }
        return out
    }
}

/// Huffman code lengths and canonical codes (RFC 1951, 3.2.2).
enum HuffmanCode {
    /// Optimal code lengths for `counts` (0 for a count of 0), none longer than `maxBits`. When the
    /// optimal code is too long, the counts are halved (keeping every used symbol at least 1) and
    /// the code is built again: the counts flatten until the tree is short enough. A single used
    /// symbol gets length 1. The code is complete when two or more symbols are used.
    static func lengths(counts: [Int], maxBits: Int) -> [Int] {
        var weights = counts
        while true {
            let lengths = unlimitedLengths(weights)
            if (lengths.max() ?? 0) <= maxBits { return lengths }
            weights = weights.map { $0 == 0 ? 0 : max(1, $0 / 2) }
        }
    }

    /// Plain Huffman: repeatedly merge the two lightest trees (ties by order of creation, so the
    /// result is the same on every run), then read each leaf's depth.
    static func unlimitedLengths(_ counts: [Int]) -> [Int] {
        precondition(counts.count <= 512, "deflate's alphabets have at most 286 symbols")
        let used = counts.indices.filter { counts[$0] > 0 }
        var lengths = [Int](repeating: 0, count: counts.count)
        if used.count == 1 { lengths[used[0]] = 1 }
        guard used.count >= 2 else { return lengths }
        // Nodes: leaves first (sorted by weight), then merged nodes in creation order, whose
        // weights never decrease: two queues give the lightest pair without a heap.
        // By (count, symbol), sorted as one integer each: symbols are below 2^9 (286 at most).
        let leaves = used.map { counts[$0] << 9 | $0 }.sorted().map { $0 & 511 }
        var weight = leaves.map { counts[$0] }
        var parent = [Int](repeating: -1, count: 2 * leaves.count - 1)
        var nextLeaf = 0, nextMerged = leaves.count
        func takeLightest() -> Int {
            if nextLeaf < leaves.count && (nextMerged >= weight.count || weight[nextLeaf] <= weight[nextMerged]) {
                nextLeaf += 1
                return nextLeaf - 1
            }
            nextMerged += 1
            return nextMerged - 1
        }
        for _ in 0..<(leaves.count - 1) {
            let a = takeLightest(), b = takeLightest()
            let node = weight.count
            weight.append(weight[a] + weight[b])
            parent[a] = node
            parent[b] = node
        }
        // Depths from the root (the last node) down: a parent is always created after its children.
        var depth = [Int](repeating: 0, count: weight.count)
        for node in stride(from: weight.count - 2, through: 0, by: -1) { depth[node] = depth[parent[node]] + 1 }
        for (k, symbol) in leaves.enumerated() { lengths[symbol] = depth[k] }
        return lengths
    }

    /// The canonical codes for `lengths`, bit-reversed: deflate sends a Huffman code's most
    /// significant bit first into a stream that is otherwise packed from the least significant bit.
    static func canonicalCodes(lengths: [Int]) -> [UInt16] {
        let maxLength = lengths.max() ?? 0
        var countOfLength = [Int](repeating: 0, count: maxLength + 1)
        for l in lengths where l > 0 { countOfLength[l] += 1 }
        var next = [Int](repeating: 0, count: maxLength + 2)
        var code = 0
        for bitsLength in 1...max(1, maxLength) {
            code = (code + (bitsLength - 1 < countOfLength.count ? countOfLength[bitsLength - 1] : 0)) << 1
            next[bitsLength] = code
        }
        return lengths.map { l in
            guard l > 0 else { return 0 }
            let c = next[l]
            next[l] += 1
            var reversed = 0
            for bit in 0..<l where c & (1 << bit) != 0 { reversed |= 1 << (l - 1 - bit) }
            return UInt16(reversed)
        }
    }
}

/// Bits packed from the least significant end, as deflate stores them.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    private var buffer: UInt64 = 0
    private var count = 0   // bits in buffer, < 8 between calls

    mutating func put(_ value: UInt64, count n: Int) {
        buffer |= value << UInt64(count)
        count += n
        while count >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: buffer))
            buffer >>= 8
            count -= 8
        }
    }

    /// The bits of a block's body: the bytes of `data` as literals (`literals[byte]` the code,
    /// `literals[256 + byte]` its bit count, at most 14: `DeflateBlock.literalBits`), except the
    /// matches, (start, length, distance) triples in order, each coded as `lengths[length]` then
    /// `distances[distance − 1]`, entries (value << 8 | bit count) of at most 19 and 28 bits. The
    /// bits gather in a 64-bit word whose whole bytes are stored 8 at a time into `out` (room for
    /// the block's bits and 8 more bytes) after every four literals (at most 7 + 4 · 14 bits) and
    /// after each match (7 + 19 + 28).
    mutating func putBlock(_ data: UnsafePointer<UInt8>, count: Int, matches: UnsafeBufferPointer<UInt32>,
                           literals: UnsafePointer<UInt64>, lengths: UnsafePointer<UInt64>,
                           distances: UnsafePointer<UInt64>, scratch out: UnsafeMutablePointer<UInt8>) {
        var used = 0
        var (buffer, bitCount) = (self.buffer, UInt64(self.count))
        @inline(__always) func add(_ entry: UInt64) {
            buffer |= (entry &>> 8) &<< bitCount
            bitCount &+= entry & 0xFF
        }
        @inline(__always) func flush() {
            UnsafeMutableRawPointer(out + used).storeBytes(of: buffer.littleEndian, as: UInt64.self)
            let whole = bitCount &>> 3
            used &+= Int(whole)
            buffer = buffer &>> (whole &<< 3)   // whole ≤ 7: a shift below 64
            bitCount &= 7
        }
        // Four literals' codes are joined into one before they meet the word (four codes of
        // ≤ 14 bits and 7 left over fit the 64 bits), and codes and bit counts come from tables
        // of their own, read by the instructions that use them: the loop is bound by its
        // instruction count, ~8 per literal.
        let codes = literals, codeLengths = literals + 256
        @inline(__always) func putFour(_ i: Int) {
            let (b0, b1, b2, b3) = (Int(data[i]), Int(data[i &+ 1]), Int(data[i &+ 2]), Int(data[i &+ 3]))
            let n0 = codeLengths[b0], n2 = codeLengths[b2]
            let n01 = n0 &+ codeLengths[b1]
            let low = codes[b0] | codes[b1] &<< n0, high = codes[b2] | codes[b3] &<< n2
            buffer |= (low | high &<< n01) &<< bitCount
            bitCount &+= n01 &+ n2 &+ codeLengths[b3]
            flush()
        }
        @inline(__always) func putLiterals(_ from: Int, _ to: Int) {
            var i = from
            while i &+ 8 <= to { putFour(i); putFour(i &+ 4); i &+= 8 }
            if i &+ 4 <= to { putFour(i); i &+= 4 }
            while i < to {
                let b = Int(data[i])
                buffer |= codes[b] &<< bitCount
                bitCount &+= codeLengths[b]
                flush()
                i &+= 1
            }
        }
        var position = 0
        for k in stride(from: 0, to: matches.count, by: 3) {
            let start = Int(matches[k]), length = Int(matches[k &+ 1]), distance = Int(matches[k &+ 2])
            putLiterals(position, start)
            add(lengths[length])
            add(distances[distance &- 1])
            flush()
            position = start &+ length
        }
        putLiterals(position, count)
        bytes.append(contentsOf: UnsafeBufferPointer(start: out, count: used))
        (self.buffer, self.count) = (buffer, Int(bitCount))
    }

    /// Appends all of `other`'s bits after this writer's and empties `other` (keeping its capacity).
    /// This writer holds fewer than 8 bits between calls, so each 8 bytes of `other` are shifted up
    /// by that many bits, or-ed onto the carry from the 8 before, and stored whole.
    mutating func append(_ other: inout BitWriter) {
        let shift = UInt64(count)   // 0...7
        var carry = buffer          // the `shift` bits not yet in `bytes`
        let words = other.bytes.count / 8
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: words * 8))
        bytes.withUnsafeMutableBytes { out in
            other.bytes.withUnsafeBytes { source in
                for w in 0..<words {
                    let word = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self))
                    out.storeBytes(of: (carry | word << shift).littleEndian, toByteOffset: start + w * 8, as: UInt64.self)
                    carry = word >> (64 - shift)   // a smart shift: 0 when shift is 0
                }
            }
        }
        buffer = carry
        for byte in other.bytes[(words * 8)...] { put(UInt64(byte), count: 8) }
        put(other.buffer, count: other.count)
        other.bytes.removeAll(keepingCapacity: true)
        (other.buffer, other.count) = (0, 0)
    }

    /// Pads with zero bits to a byte boundary.
    mutating func alignToByte() {
        if count % 8 != 0 { put(0, count: 8 - count % 8) }
    }

    /// Hands the whole bytes written so far to `body` and removes them from the writer (keeping
    /// its storage for the next ones); returns what `body` returns.
    mutating func drain(_ body: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes.withUnsafeBufferPointer(body)
    }

    /// The whole bytes written so far, removed from the writer.
    mutating func takeBytes() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }
}

/// Adler-32 (RFC 1950): a = 1 + Σ bytes, b = Σ of the successive a, both mod 65521, reduced every
/// `chunk` bytes (the most after which the sums below cannot overflow 32 bits per lane).
///
/// 16 bytes at a time, x_k for lane k: s1[k] sums lane k's bytes, p[k] the s1[k] before each
/// vector; over a chunk of n bytes (T vectors) a byte of vector t, lane k was followed by
/// n − (16t + k) positions = 16·(T − 1 − t) + (16 − k), so
///   a' = a + Σ s1,   b' = b + n·a + 16·Σ p + Σ (16 − k)·s1[k]      (in 64 bits, then mod 65521);
/// the lane weights 16 − k multiply each lane's sum once per chunk, not each byte. 16 lanes, not
/// 32: the widening of 32 bytes stayed a loop over the lanes (4× slower, measured).
struct Adler32 {
    private(set) var a: UInt32 = 1, b: UInt32 = 0
    var value: UInt32 { b << 16 | a }
    static let modulus: UInt64 = 65521
    typealias Lanes = SIMD16<UInt32>
    /// Bytes per reduction: 4096 vectors of 16 (p[k] ≤ 4096·4095 / 2 · 255 < 2^31 and
    /// (16 − k)·s1[k] ≤ 16·4096·255).
    static let chunk = 4096 * 16
    /// 16 − k for lane k.
    static let laneWeights = Lanes((0..<16).map { UInt32(16 - $0) })

    mutating func update(_ data: UnsafeBufferPointer<UInt8>) {
        guard let bytes = data.baseAddress else { return }
        var (a, b) = (UInt64(self.a), UInt64(self.b))
        var i = 0
        while i < data.count {
            let n = min(data.count - i, Self.chunk)
            let vectors = n / 16
            var s1 = Lanes(), p = Lanes()
            for t in 0..<vectors {
                let x = Lanes(truncatingIfNeeded: UnsafeRawPointer(bytes + i + 16 * t).loadUnaligned(as: SIMD16<UInt8>.self))
                p &+= s1
                s1 &+= x
            }
            let s2 = s1 &* Self.laneWeights
            func total(_ v: Lanes) -> UInt64 { (0..<16).reduce(0) { $0 + UInt64(v[$1]) } }
            let vectorBytes = UInt64(16 * vectors)
            b += vectorBytes * a + 16 * total(p) + total(s2)
            a += total(s1)
            for k in (16 * vectors)..<n {   // the last n mod 16 bytes
                a += UInt64(bytes[i + k])
                b += a
            }
            a %= Self.modulus
            b %= Self.modulus
            i += n
        }
        (self.a, self.b) = (UInt32(a), UInt32(b))
    }
}
