// Each of our two deflate block coders (runs, matched) on chosen byte streams, read back by libpng
// and its zlib: the stream is wrapped as the image data of an 8-bit gray PNG whose rows all carry
// filter type 0 (none), so the decoded samples are the coded bytes themselves.
import Testing
@testable import UpscaleKit

/// CRC-32 of PNG chunks, bit by bit (PNG spec, annex D).
private func chunkCRC(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }
    return ~crc
}

private func bigEndian(_ v: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(v >> UInt32($0) & 0xFF) } }

/// A zlib stream of `data` cut into blocks of `blockBytes`, each coded by `coder`, then the empty
/// final block and the Adler-32 (computed here the slow way).
private func zlibStream(_ data: [UInt8], blockBytes: Int,
                        coder: (UnsafeBufferPointer<UInt8>, DeflateBlock.Scratch, inout BitWriter) -> Void) -> [UInt8] {
    var bits = BitWriter()
    bits.put(0x0178, count: 16)
    let scratch = DeflateBlock.Scratch(blockBytes: blockBytes)
    data.withUnsafeBufferPointer { all in
        for start in stride(from: 0, to: all.count, by: blockBytes) {
            coder(UnsafeBufferPointer(rebasing: all[start..<min(all.count, start + blockBytes)]), scratch, &bits)
        }
    }
    bits.put(0b011, count: 3)
    bits.put(0, count: 7)
    bits.alignToByte()
    var (a, b): (UInt32, UInt32) = (1, 0)
    for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
    return bits.takeBytes() + bigEndian(b << 16 | a)
}

/// `rows` (each `width` bytes) coded by `coder` as an 8-bit gray PNG, decoded by libpng.
private func decodedThroughLibpng(_ rows: [UInt8], width: Int, blockBytes: Int,
                                  coder: (UnsafeBufferPointer<UInt8>, DeflateBlock.Scratch, inout BitWriter) -> Void) throws -> [UInt8] {
    let height = rows.count / width
    var stream: [UInt8] = []
    for r in 0..<height { stream += [0] + rows[(r * width)..<((r + 1) * width)] }
    func chunk(_ name: String, _ body: [UInt8]) -> [UInt8] {
        let typed = Array(name.utf8) + body
        return bigEndian(UInt32(body.count)) + typed + bigEndian(chunkCRC(typed))
    }
    let header = bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, 0, 0, 0, 0]
    let file = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header)
        + chunk("IDAT", zlibStream(stream, blockBytes: blockBytes, coder: coder)) + chunk("IEND", [])
    let image = try ImageCodec.decode(bytes: file, name: "coded.png")
    return image.color.data.map { UInt8(($0 * 255).rounded()) }
}

private let coders: [(String, @Sendable (UnsafeBufferPointer<UInt8>, DeflateBlock.Scratch, inout BitWriter) -> Void)] = [
    ("runs", { DeflateBlock.writeRuns($0, literalCounts: DeflateBlock.Sample($0, scratch: $1).runLiterals, scratch: $1, into: &$2) }),
    ("matched", { DeflateBlock.writeMatched($0, literalCounts: DeflateBlock.Sample($0, scratch: $1).matchedLiterals,
                                            scratch: $1, into: &$2) }),
    ("chosen", { DeflateBlock.write($0, scratch: $1, into: &$2) }),
]

/// Streams that stress the runs coder's scan: runs of zeros of every length from 1 to 300 (pieces
/// of 3...258 and the 1–2 bytes left over), at the start and end of blocks, all zeros, noise.
@Test(arguments: [0, 1, 2, 3, 4])
func bothCodersRoundTripThroughLibpng(kind: Int) throws {
    var random = SeededSamples(seed: UInt64(40 + kind))
    let (width, rows): (Int, [UInt8])
    switch kind {
    case 0:   // zero runs of each length 1...300, each after a nonzero byte; some runs end at row ends
        var bytes: [UInt8] = []
        for length in 1...300 { bytes.append(UInt8(1 + random.next(below: 255))); bytes += [UInt8](repeating: 0, count: length) }
        (width, rows) = (301, bytes + [UInt8](repeating: 7, count: (301 - bytes.count % 301) % 301))
    case 1:   // all zeros: one long run per block
        (width, rows) = (1000, [UInt8](repeating: 0, count: 1000 * 70))
    case 2:   // incompressible noise
        (width, rows) = (517, (0..<(517 * 300)).map { _ in UInt8(random.next(below: 256)) })
    case 3:   // rows of width 1: every other byte of the stream is a filter-type zero
        (width, rows) = (1, (0..<20_000).map { _ in UInt8(random.next(below: 3)) })
    default:  // rows wider than the 32 KiB window, blocks ending inside rows, small residuals and runs
        (width, rows) = (60_000, (0..<600_000).map { i in i % 5000 < 1200 ? 0 : UInt8(random.next(below: 4)) })
    }
    for (name, coder) in coders {
        for blockBytes in [65_536, 1 << 20] {
            let back = try decodedThroughLibpng(rows, width: width, blockBytes: blockBytes, coder: coder)
            #expect(back == rows, "kind \(kind), \(name) coder, blocks of \(blockBytes)")
        }
    }
}

/// The runs scan finds every run of 15 or more zeros and codes all but its first zero as matches
/// (up to 2 bytes left over), and moves exactly those zeros out of the literal count.
@Test func runsAreFoundAndCountedExactly() {
    var bytes: [UInt8] = []
    var expectedCovered = 0
    for length in [15, 16, 40, 258, 259, 260, 261, 1000] {
        bytes += [9, 9, 9]
        bytes += [UInt8](repeating: 0, count: length)
        let pieces = length - 1
        expectedCovered += pieces % 258 < 3 ? pieces - pieces % 258 : pieces
    }
    bytes += [5]
    var counts = [Int](repeating: 0, count: 286)   // the bytes' histogram, counted here
    for byte in bytes { counts[Int(byte)] += 1 }
    let zeros = counts[0]
    let runs = UnsafeMutablePointer<UInt32>.allocate(capacity: DeflateBlock.Scratch.runCapacity(bytes: bytes.count))
    defer { runs.deallocate() }
    let pieces = DeflateBlock.findRuns(bytes, count: bytes.count, into: runs, counts: &counts)
    let covered = (0..<pieces).reduce(0) { $0 + Int(runs[3 * $1 + 1]) }
    #expect(covered == expectedCovered)
    #expect(zeros - counts[0] == covered)
    #expect((0..<pieces).allSatisfy { (3...258).contains(Int(runs[3 * $0 + 1])) && bytes[Int(runs[3 * $0]) - 1] == 0 && runs[3 * $0 + 2] == 1 })
    #expect(counts[257...285].reduce(0, +) == pieces)
}

/// The choice: noise and flat residuals take the runs coder; a pattern repeating every 150 bytes
/// (which only matches can use) takes the matched one.
@Test func theBlockCoderIsChosenByItsSamples() {
    var random = SeededSamples(seed: 77)
    let noise = (0..<400_000).map { _ in UInt8(random.next(below: 8)) }
    let tile = (0..<150).map { _ in UInt8(random.next(below: 256)) }
    let repeated = (0..<400_000).map { tile[$0 % 150] }
    let scratch = DeflateBlock.Scratch(blockBytes: 400_000)
    noise.withUnsafeBufferPointer { #expect(DeflateBlock.Sample($0, scratch: scratch).prefersRuns) }
    repeated.withUnsafeBufferPointer { #expect(!DeflateBlock.Sample($0, scratch: scratch).prefersRuns) }
}

/// The matched coder's search: every match it stores copies bytes that are equal (at its
/// distance, within the window, inside the block), matches do not overlap and are taken in order,
/// the length and distance counts are exactly those of the matches, and the covered bytes'
/// histogram exactly that of the bytes inside them. A pattern
/// repeating every 1 000 bytes behind noise is found, and after the first match the rest come from
/// the repeated distance.
@Test func matchesAreRealAndCountedExactly() {
    var random = SeededSamples(seed: 5)
    let tile = (0..<1_000).map { _ in UInt8(random.next(below: 256)) }
    var bytes = (0..<3_000).map { _ in UInt8(random.next(below: 256)) }   // noise first
    bytes += (0..<60_000).map { tile[$0 % 1_000] }
    bytes += (0..<5_000).map { _ in UInt8(random.next(below: 4)) }         // small residuals
    let scratch = DeflateBlock.Scratch(blockBytes: bytes.count)
    var counts = [Int](repeating: 0, count: 286), distanceCounts = [Int](repeating: 0, count: 30)
    var coveredTables = [UInt32](repeating: 0, count: 4 * 256)   // as addHistogram counts
    let matches = coveredTables.withUnsafeMutableBufferPointer {
        DeflateBlock.findMatches(bytes, count: bytes.count, scratch: scratch, counts: &counts,
                                 distanceCounts: &distanceCounts, covered: $0.baseAddress!)
    }
    var expectedCounts = [Int](repeating: 0, count: 286), expectedDistances = [Int](repeating: 0, count: 30)
    var expectedCovered = [Int](repeating: 0, count: 256)
    var position = 0, covered = 0, atThousand = 0
    for k in 0..<matches {
        let (start, length, distance) = (Int(scratch.tokens[3 * k]), Int(scratch.tokens[3 * k + 1]),
                                         Int(scratch.tokens[3 * k + 2]))
        #expect(start >= position && (4...258).contains(length) && (1...32_768).contains(distance) && distance <= start,
                "match \(k): start \(start), length \(length), distance \(distance)")
        #expect(bytes[start..<(start + length)].elementsEqual(bytes[(start - distance)..<(start - distance + length)]),
                "match \(k) copies other bytes")
        for b in bytes[start..<(start + length)] { expectedCovered[Int(b)] += 1 }
        expectedCounts[DeflateBlock.lengthSymbol(length).symbol] += 1
        expectedDistances[DeflateBlock.distanceSymbol(distance).symbol] += 1
        covered += length
        if distance == 1_000 { atThousand += length }
        position = start + length
    }
    #expect(counts == expectedCounts)
    let coveredHistogram = (0..<256).map { b in
        Int(coveredTables[b]) + Int(coveredTables[256 + b]) + Int(coveredTables[512 + b]) + Int(coveredTables[768 + b])
    }
    #expect(coveredHistogram == expectedCovered)
    #expect(distanceCounts == expectedDistances)
    #expect(atThousand >= 58_000, "the repeated pattern: \(atThousand) of 59 000 bytes as matches 1 000 back")
    #expect(covered < 64_000)
}

/// The literal codes come from samples of the block (of a 1 MiB block: two 64 KiB slices at its
/// start and middle, and 16 slices of 8 KiB every 64 KiB); bytes the samples never show, placed
/// only outside them, must still be coded (each byte value counts at least 1), with codes as long
/// as the limit allows.
@Test func bytesTheSamplesMissStillGetCodes() throws {
    var random = SeededSamples(seed: 91)
    let blockBytes = 1 << 20, width = 4096
    // Byte v with probability 2^−(v+1) (v < 16): a skewed histogram, the rare bytes' codes long.
    var rows = (0..<(blockBytes + 3 * width)).map { _ in UInt8(min(15, random.next(below: 1 << 16).trailingZeroBitCount)) }
    // Never within the slices (the stream adds a byte per row: at most 260 before 1 MiB).
    for k in stride(from: 70_000, to: rows.count, by: 997) where !(520_000..<600_000).contains(k) && k % 65_536 > 8_500 {
        rows[k] = UInt8(128 + k % 128)
    }
    let block = Array(rows[0..<blockBytes])
    let sample = block.withUnsafeBufferPointer { DeflateBlock.Sample($0, scratch: DeflateBlock.Scratch(blockBytes: blockBytes)) }
    #expect(sample.runLiterals[128...].allSatisfy { $0 == 1 }, "absent from the slices")
    #expect(sample.runLiterals.allSatisfy { $0 >= 1 } && sample.matchedLiterals.allSatisfy { $0 >= 1 })
    let lengths = HuffmanCode.lengths(counts: sample.runLiterals + [1] + [Int](repeating: 0, count: 29),
                                      maxBits: DeflateBlock.literalBits)
    #expect(lengths.max() == DeflateBlock.literalBits, "the rare bytes' codes reach the limit")
    for (name, coder) in coders {
        let back = try decodedThroughLibpng(rows, width: width, blockBytes: blockBytes, coder: coder)
        #expect(back == rows, "\(name) coder")
    }
}

/// Both coders' literal counts are their samples' histogram (less what runs or matches cover),
/// scaled to the block: here no zeros and no repeats, so exactly the histogram, scaled. The
/// matched coder's sample is the 64 KiB slices searched (the one at the start: runs win it, so the
/// one in the middle is not searched), the runs coder's 16 slices of 8 KiB, one every sixteenth of
/// the block.
@Test func sampleLiteralCountsAreTheSlicesHistogramScaled() {
    var random = SeededSamples(seed: 92)
    let count = 400_000
    let block = (0..<count).map { _ in UInt8(1 + random.next(below: 255)) }
    func scaledHistogram(starts: [Int], bytes: Int) -> [Int] {
        var histogram = [Int](repeating: 0, count: 256)
        for start in starts { for b in block[start..<(start + bytes)] { histogram[Int(b)] += 1 } }
        return histogram.map { max(1, $0 * count / (starts.count * bytes)) }
    }
    let sample = block.withUnsafeBufferPointer { DeflateBlock.Sample($0, scratch: DeflateBlock.Scratch(blockBytes: count)) }
    #expect(sample.matchedLiterals == scaledHistogram(starts: [0], bytes: 65_536))
    #expect(sample.runLiterals == scaledHistogram(starts: (0..<16).map { $0 * (count / 16) }, bytes: 8_192))
    #expect(sample.prefersRuns)
}
