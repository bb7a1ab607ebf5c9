// Our PNG image-data encoder (PNGEncoder.fastDeflate) against independent oracles: libpng reads
// every file back to the exact samples, the file's zlib check equals an Adler-32 computed here
// from the PNG spec's Paeth filter, and the Huffman pieces match RFC 1951's own example.
import Foundation
import Testing
@testable import UpscaleKit

/// The spec's Paeth predictor, written out as in the PNG standard (section 9.4).
private func specPaeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
    let p = a + b - c
    let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
    if pa <= pb && pa <= pc { return a }
    return pb <= pc ? b : c
}

/// Filter-type byte 4 and the Paeth-filtered bytes of each row of `rows` (H rows of rowBytes).
private func specFilteredStream(_ rows: [UInt8], rowBytes: Int, bpp: Int) -> [UInt8] {
    var out: [UInt8] = []
    for r in 0..<(rows.count / rowBytes) {
        out.append(4)
        for i in 0..<rowBytes {
            let x = Int(rows[r * rowBytes + i])
            let a = i >= bpp ? Int(rows[r * rowBytes + i - bpp]) : 0
            let b = r > 0 ? Int(rows[(r - 1) * rowBytes + i]) : 0
            let c = r > 0 && i >= bpp ? Int(rows[(r - 1) * rowBytes + i - bpp]) : 0
            out.append(UInt8((x - specPaeth(a, b, c)) & 0xFF))
        }
    }
    return out
}

/// Adler-32 the slow way: both sums reduced after every byte.
private func naiveAdler32(_ data: [UInt8]) -> UInt32 {
    var (a, b): (UInt32, UInt32) = (1, 0)
    for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
    return b << 16 | a
}

/// The concatenated IDAT data and the chunk names of a PNG file.
private func pngChunks(_ file: [UInt8]) -> (names: [String], idat: [UInt8]) {
    var names: [String] = [], idat: [UInt8] = []
    var pos = 8
    while pos + 12 <= file.count {
        let length = file[pos..<(pos + 4)].reduce(0) { $0 << 8 | Int($1) }
        names.append(String(decoding: file[(pos + 4)..<(pos + 8)], as: UTF8.self))
        if names.last == "IDAT" { idat += file[(pos + 8)..<(pos + 8 + length)] }
        pos += 12 + length
    }
    return (names, idat)
}

@Test func adler32MatchesKnownValuesAndTheNaiveSum() {
    var adler = Adler32()
    Array("Wikipedia".utf8).withUnsafeBufferPointer { adler.update($0) }
    #expect(adler.value == 0x11E6_0398)
    // Long runs of 0xFF push the sums towards overflow between reductions; split updates too.
    var random = SeededSamples(seed: 3)
    // More than two reduction chunks (Adler32.chunk) of 0xFF, then random bytes.
    let data = (0..<200_000).map { i in i < 140_000 ? UInt8(0xFF) : UInt8(random.next(below: 256)) }
    var split = Adler32()
    data.withUnsafeBufferPointer { all in
        split.update(UnsafeBufferPointer(rebasing: all[0..<7_001]))
        split.update(UnsafeBufferPointer(rebasing: all[7_001..<150_003]))
        split.update(UnsafeBufferPointer(rebasing: all[150_003...]))
    }
    #expect(split.value == naiveAdler32(data))
}

@Test func paethFilterMatchesTheSpecOnEveryPixelSize() {
    var random = SeededSamples(seed: 11)
    for bpp in [1, 2, 3, 4, 6, 8] {
        for pixels in [1, 2, 5, 17, 40] {
            let rowBytes = bpp * pixels
            let rows = (0..<(3 * rowBytes)).map { _ in UInt8(random.next(below: 256)) }
            let expected = specFilteredStream(rows, rowBytes: rowBytes, bpp: bpp)
            var got: [UInt8] = []
            let zeros = [UInt8](repeating: 0, count: rowBytes)
            for r in 0..<3 {
                var line = [UInt8](repeating: 0, count: rowBytes)
                rows.withUnsafeBufferPointer { x in
                    zeros.withUnsafeBufferPointer { z in
                        PaethFilter.apply(row: x.baseAddress! + r * rowBytes,
                                          previous: r == 0 ? z.baseAddress! : x.baseAddress! + (r - 1) * rowBytes,
                                          count: rowBytes, bytesPerPixel: bpp, into: &line)
                    }
                }
                got += [4] + line
            }
            #expect(got == expected, "bpp \(bpp), \(pixels) pixels")
        }
    }
}

/// The vector predictor against the spec's, for every a and b with c over a stride of 0 ... 255
/// and its ends (the ties among them).
@Test func paethPredictorMatchesTheSpecOnByteTriples() {
    var (a, b, c) = ([UInt8](), [UInt8](), [UInt8]())
    var expected = [UInt8]()
    for cv in Array(stride(from: 0, through: 255, by: 3)) + [1, 127, 128, 254] {
        for av in 0...255 {
            for bv in 0...255 {
                a.append(UInt8(av)); b.append(UInt8(bv)); c.append(UInt8(cv))
                expected.append(UInt8(specPaeth(av, bv, cv)))
            }
        }
    }
    var got = [UInt8](repeating: 0, count: a.count)
    for i in stride(from: 0, to: a.count, by: 16) {
        func vector(_ x: [UInt8]) -> SIMD16<UInt8> { SIMD16(x[i..<(i + 16)]) }
        let p = PaethFilter.predictor(vector(a), vector(b), vector(c))
        for k in 0..<16 { got[i + k] = p[k] }
    }
    let bad = got.indices.first { got[$0] != expected[$0] }
    #expect(bad == nil, "a \(bad.map { a[$0] } ?? 0), b \(bad.map { b[$0] } ?? 0), c \(bad.map { c[$0] } ?? 0)")
}

@Test func canonicalCodesFollowTheRFCExample() {
    // RFC 1951, 3.2.2: lengths (3, 3, 3, 3, 3, 2, 4, 4) give 010 011 100 101 110 00 1110 1111.
    let lengths = [3, 3, 3, 3, 3, 2, 4, 4]
    let reversed = HuffmanCode.canonicalCodes(lengths: lengths)
    let codes = zip(reversed, lengths).map { code, length in
        (0..<length).reduce(0) { $0 << 1 | (Int(code) >> $1) & 1 }   // undo the bit reversal
    }
    #expect(codes == [0b010, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111])
}

@Test func codeLengthsStayWithinTheLimitAndFormACompleteCode() {
    // Fibonacci counts make the optimal tree as deep as there are symbols.
    var fibonacci = [1, 1]
    while fibonacci.count < 30 { fibonacci.append(fibonacci[fibonacci.count - 1] + fibonacci[fibonacci.count - 2]) }
    for (counts, limit) in [(fibonacci, 15), (fibonacci + [Int](repeating: 0, count: 5) + [7], 7),
                            ([5, 0, 0, 9], 15), ([Int](repeating: 3, count: 257), 15)] {
        let lengths = HuffmanCode.lengths(counts: counts, maxBits: limit)
        #expect(lengths.max()! <= limit)
        #expect(zip(counts, lengths).allSatisfy { ($0 == 0) == ($1 == 0) }, "used symbols get codes, others none")
        let kraft = lengths.filter { $0 > 0 }.reduce(0.0) { $0 + pow(2.0, -Double($1)) }
        #expect(kraft == 1, "Kraft sum \(kraft) for \(counts.count) symbols, limit \(limit)")
    }
    #expect(HuffmanCode.lengths(counts: [0, 4, 0], maxBits: 15) == [0, 1, 0])
}

/// Writes `color` (1, C, H, W) and `alpha` (1, 1, H, W) to `path` with `options`, in bands of
/// `bandRows` rows (the last one shorter), and returns the file's bytes.
private func writeInBands(_ color: Tensor, alpha: Tensor? = nil, bitDepth: Int = 8, bandRows: Int,
                          options: EncodeOptions, to path: String) throws -> [UInt8] {
    let (channels, height, width) = (color.shape[1], color.shape[2], color.shape[3])
    let writer = try ImageCodec.openWriter(path: path, width: width, height: height, colorChannels: channels,
                                           hasAlpha: alpha != nil, bitDepth: bitDepth, options: options)
    for top in stride(from: 0, to: height, by: bandRows) {
        let rows = top..<min(height, top + bandRows)
        func band(_ t: Tensor) -> Tensor {
            let c = t.shape[1]
            return Tensor(shape: [1, c, rows.count, width], data: (0..<c).flatMap { ch in
                t.data[((ch * height + rows.lowerBound) * width)..<((ch * height + rows.upperBound) * width)]
            })
        }
        try writer.write(ImageBand(color: band(color), alpha: alpha.map(band)))
    }
    _ = try writer.finish()
    return try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Writes `color`/`alpha` (exact sample levels) with our encoder in bands of `bandRows`, reads the
/// file back with libpng, and checks the samples and the zlib check value.
private func roundTrip(channels: Int, alpha hasAlpha: Bool, bitDepth: Int, width: Int, height: Int,
                       bandRows: Int, sample: (Int, Int) -> Int) throws {
    let label = "\(channels)+\(hasAlpha ? 1 : 0) channels, \(bitDepth)-bit, \(width)×\(height), bands of \(bandRows)"
    let maxValue = Float((1 << bitDepth) - 1)
    let planes = channels + (hasAlpha ? 1 : 0)
    let values = (0..<(planes * height * width)).map { Float(sample($0, (1 << bitDepth) - 1)) / maxValue }
    let color = Tensor(shape: [1, channels, height, width], data: Array(values[0..<(channels * height * width)]))
    let alpha = hasAlpha ? Tensor(shape: [1, 1, height, width], data: Array(values[(channels * height * width)...])) : nil
    let dir = ScratchDir("deflate-png")
    defer { dir.remove() }
    var options = EncodeOptions()
    options.pngEncoder = .fastDeflate
    let file = try writeInBands(color, alpha: alpha, bitDepth: bitDepth, bandRows: bandRows, options: options,
                                to: dir.file("out.png"))

    let back = try ImageCodec.decode(path: dir.file("out.png"))
    #expect(back.bitDepth == bitDepth, "\(label)")
    #expect(back.color.shape == color.shape && back.color.data == color.data, "\(label): colour samples differ")
    #expect(back.alpha?.data == alpha?.data, "\(label): alpha samples differ")

    let (names, idat) = pngChunks(file)
    #expect(names.first == "IHDR" && names.last == "IEND" && names.contains("IDAT"), "\(label): chunks \(names)")
    // The samples as the file stores them: interleaved, big-endian at 16 bits.
    var stored: [UInt8] = []
    for p in 0..<(height * width) {
        for ch in 0..<planes {
            let level = Int((values[ch * height * width + p] * maxValue).rounded())
            if bitDepth == 16 { stored.append(UInt8(level >> 8)) }
            stored.append(UInt8(level & 0xFF))
        }
    }
    let filtered = specFilteredStream(stored, rowBytes: width * planes * bitDepth / 8, bpp: planes * bitDepth / 8)
    let check = idat.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    #expect(idat.prefix(2) == [0x78, 0x01], "\(label): zlib header")
    #expect(check == naiveAdler32(filtered), "\(label): the zlib check is not the Adler-32 of the filtered rows")
}

@Test func everyLayoutRoundTripsThroughLibpng() throws {
    var random = SeededSamples(seed: 5)
    for (channels, alpha) in [(1, false), (1, true), (3, false), (3, true)] {
        for bitDepth in [8, 16] {
            try roundTrip(channels: channels, alpha: alpha, bitDepth: bitDepth, width: 23, height: 11, bandRows: 4) { _, top in
                random.next(below: top + 1)
            }
        }
    }
    try roundTrip(channels: 3, alpha: false, bitDepth: 8, width: 1, height: 1, bandRows: 1) { _, _ in 200 }
    try roundTrip(channels: 1, alpha: false, bitDepth: 8, width: 64, height: 9, bandRows: 9) { _, _ in 0 }
}

@Test func largeImagesSpanSeveralBlocksAndSkewedHistogramsStayDecodable() throws {
    // 700×600 RGB noise: 1.26 MB of filtered bytes, more than one deflate block.
    var random = SeededSamples(seed: 9)
    try roundTrip(channels: 3, alpha: false, bitDepth: 8, width: 700, height: 600, bandRows: 250) { _, top in
        random.next(below: top + 1)
    }
    // A smooth ramp: most filtered bytes are 0, a few values are rare (long codes).
    try roundTrip(channels: 3, alpha: false, bitDepth: 16, width: 300, height: 200, bandRows: 37) { i, _ in
        min(65_535, (i % 300) * 200 + (i / 300) % 200 + (i % 9973 == 0 ? 40_000 : 0))
    }
}

@Test func lengthCodesFollowTheRFCTable() {
    // RFC 1951, 3.2.5: code, extra bits, first length.
    let table: [(Int, Int, Int)] = [(257, 0, 3), (264, 0, 10), (265, 1, 11), (268, 1, 17), (269, 2, 19), (272, 2, 31),
                                    (273, 3, 35), (276, 3, 59), (277, 4, 67), (280, 4, 115), (281, 5, 131),
                                    (284, 5, 227), (285, 0, 258)]
    for (symbol, extraBits, first) in table {
        let got = DeflateBlock.lengthSymbol(first)
        #expect(got.symbol == symbol && got.extraBits == extraBits && got.extra == 0, "length \(first): \(got)")
    }
    #expect(DeflateBlock.lengthSymbol(257) == (284, 5, 30))
    #expect(DeflateBlock.lengthSymbol(12) == (265, 1, 1))
    #expect(DeflateBlock.lengthSymbol(130) == (280, 4, 15))
}

@Test func distanceCodesFollowTheRFCTable() {
    // RFC 1951, 3.2.5: code, extra bits, first distance.
    let table: [(Int, Int, Int)] = [(0, 0, 1), (3, 0, 4), (4, 1, 5), (5, 1, 7), (6, 2, 9), (9, 3, 25), (10, 4, 33),
                                    (15, 6, 193), (20, 9, 1025), (25, 11, 6145), (28, 13, 16385), (29, 13, 24577)]
    for (symbol, extraBits, first) in table {
        let got = DeflateBlock.distanceSymbol(first)
        #expect(got.symbol == symbol && got.extraBits == extraBits && got.extra == 0, "distance \(first): \(got)")
    }
    #expect(DeflateBlock.distanceSymbol(32768) == (29, 13, 8191))
    #expect(DeflateBlock.distanceSymbol(8) == (5, 1, 1))
}

@Test func repeatedPatternsAreCodedAsMatches() throws {
    // Stripes with a period of 7 pixels and a tile repeated every 150 pixels: the Paeth residuals
    // repeat at those distances, which only matches (not a literal code) can exploit.
    var random = SeededSamples(seed: 17)
    let tile = (0..<(150 * 3)).map { _ in random.next(below: 256) }
    try roundTrip(channels: 3, alpha: false, bitDepth: 8, width: 900, height: 200, bandRows: 64) { i, _ in
        let (x, c) = ((i % (900 * 200)) % 900, i / (900 * 200))
        return (i / 900) % 200 < 100 ? tile[(x % 150) * 3 + c] : (x % 7) * 30 + c
    }
    var data = [Float]()
    for c in 0..<3 { for y in 0..<200 { for x in 0..<900 {
        data.append(Float(y < 100 ? tile[(x % 150) * 3 + c] : (x % 7) * 30 + c) / 255)
    } } }
    var options = EncodeOptions()
    options.pngEncoder = .fastDeflate
    let bytes = try ImageCodec.encode(RasterImage(color: Tensor(shape: [1, 3, 200, 900], data: data), alpha: nil),
                                      format: .png, options: options)
    #expect(bytes.count < 900 * 200 * 3 / 20, "a repeated 900×200 RGB image took \(bytes.count) bytes")
}

@Test func flatAreasAreCodedAsRuns() throws {
    // A flat image with a few edges: Paeth leaves runs of zeros, which runs code in far less than
    // the one bit per byte a literal code needs at least.
    try roundTrip(channels: 3, alpha: false, bitDepth: 8, width: 1000, height: 300, bandRows: 128) { i, _ in
        (i % 1000) < 400 ? 30 : ((i / 1000) % 300 < 100 ? 200 : 90)
    }
    let image = RasterImage(color: Tensor(shape: [1, 3, 300, 1000], data: [Float](repeating: 0.5, count: 900_000)), alpha: nil)
    var options = EncodeOptions()
    options.pngEncoder = .fastDeflate
    let bytes = try ImageCodec.encode(image, format: .png, options: options)
    #expect(bytes.count < 900_000 / 100, "a flat 1000×300 RGB image took \(bytes.count) bytes")
}

@Test func theFileDoesNotDependOnTheBands() throws {
    // 700×600 RGB: 1.26 MB of filtered rows, so blocks and IDAT chunks end inside bands.
    var random = SeededSamples(seed: 13)
    let (width, height) = (700, 600)
    let data = (0..<(3 * width * height)).map { i in Float(i % width < 300 ? 77 : random.next(below: 256)) / 255 }
    let dir = ScratchDir("deflate-bands")
    defer { dir.remove() }
    var options = EncodeOptions()
    options.pngEncoder = .fastDeflate
    var files: [[UInt8]] = []
    for bandRows in [600, 250, 97, 1] {
        files.append(try writeInBands(Tensor(shape: [1, 3, height, width], data: data), bandRows: bandRows,
                                      options: options, to: dir.file("out-\(bandRows).png")))
    }
    #expect(files.allSatisfy { $0 == files[0] }, "sizes \(files.map(\.count))")
    #expect(try ImageCodec.decode(path: dir.file("out-97.png")).color.data == data)
}

@Test func joiningBitWritersEqualsWritingTheirBitsInOrder() {
    // Pieces of random lengths (whole bytes and odd bit counts), written once into one writer and
    // once each into its own writer joined onto the first: every start offset 0...7 occurs.
    var random = SeededSamples(seed: 21)
    for _ in 0..<50 {
        var whole = BitWriter(), joined = BitWriter()
        for _ in 0..<(1 + random.next(below: 6)) {
            var piece = BitWriter()
            for _ in 0..<random.next(below: 40) {
                let n = 1 + random.next(below: 24)
                let value = UInt64(random.next(below: 1 << n))
                whole.put(value, count: n)
                piece.put(value, count: n)
            }
            joined.append(&piece)
            #expect(piece.takeBytes().isEmpty, "the joined piece is emptied")
        }
        whole.alignToByte()
        joined.alignToByte()
        let (expected, got) = (whole.takeBytes(), joined.takeBytes())
        let firstDifference = zip(expected, got).enumerated().first { $1.0 != $1.1 }?.offset
        #expect(got == expected, "\(got.count) bytes joined, \(expected.count) written; first difference at \(firstDifference ?? -1)")
    }
}

@Test func blocksCodedOnSeveralThreadsGiveTheSameFile() throws {
    // 1200×1020 RGB, noise beside flat runs: 3.5 MiB of filtered rows, three whole blocks and a
    // partial one. Bands of all rows and of 600 rows complete several blocks at once (coded in
    // parallel); bands of 97 and 1 rows complete one at a time.
    var random = SeededSamples(seed: 23)
    let (width, height) = (1200, 1020)
    let data = (0..<(3 * width * height)).map { i in
        Float(i % width < 400 ? (i / (width * 50)) % 7 * 30 : random.next(below: 256)) / 255
    }
    let dir = ScratchDir("deflate-threads")
    defer { dir.remove() }
    var files: [(label: String, bytes: [UInt8])] = []
    for (threads, bandRows) in [(1, 1020), (2, 1020), (3, 1020), (2, 600), (3, 600), (3, 97), (2, 1)] {
        var options = EncodeOptions()
        options.pngEncoder = .fastDeflate
        options.threads = threads
        let bytes = try writeInBands(Tensor(shape: [1, 3, height, width], data: data), bandRows: bandRows,
                                     options: options, to: dir.file("out-\(threads)-\(bandRows).png"))
        files.append(("\(threads) threads, bands of \(bandRows)", bytes))
    }
    // Compared as Bools: the files are 2 MB, the samples 3.7 million.
    for file in files.dropFirst() {
        let same = file.bytes == files[0].bytes
        let firstDifference = zip(file.bytes, files[0].bytes).enumerated().first { $1.0 != $1.1 }?.offset
        #expect(same, "\(file.label): \(file.bytes.count) bytes, first difference at \(firstDifference ?? -1); 1 thread: \(files[0].bytes.count) bytes")
    }
    // libpng reads the parallel file back to the exact samples, and its check is the spec's Adler-32.
    let samplesRead = try ImageCodec.decode(path: dir.file("out-3-1020.png")).color.data == data
    #expect(samplesRead, "libpng does not read back the samples written with 3 threads")
    var stored = [UInt8](repeating: 0, count: 3 * width * height)
    for p in 0..<(width * height) { for ch in 0..<3 { stored[p * 3 + ch] = UInt8((data[ch * width * height + p] * 255).rounded()) } }
    let idat = pngChunks(files[2].bytes).idat
    #expect(idat.suffix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            == naiveAdler32(specFilteredStream(stored, rowBytes: 3 * width, bpp: 3)))
}

/// Packed bands (the upscale loop's) may each be coded on a different number of threads (one
/// beside the tile workers, all of them for the last band): the file is the same bytes.
@Test func packedBandsGiveTheSameFileWhateverThreadsEachMayUse() throws {
    // 1200×1020 RGB noise: 3.5 MiB of filtered rows, three whole blocks and a partial one, in
    // bands of 300, 300, 300 and 120 rows.
    var random = SeededSamples(seed: 29)
    let (width, height, bands) = (1200, 1020, [300, 300, 300, 120])
    let samples = (0..<(3 * width * height)).map { _ in UInt8(random.next(below: 256)) }   // (H, W, 3)
    let dir = ScratchDir("deflate-packed-threads")
    defer { dir.remove() }
    var files: [(label: String, bytes: [UInt8])] = []
    for allowed in [[1, 1, 1, 1], [1, 1, 1, 3], [3, 3, 3, 3], [1, 3, 1, 2]] {
        var options = EncodeOptions()
        options.pngEncoder = .fastDeflate
        options.threads = 3
        let path = dir.file("out-\(allowed.map(String.init).joined()).png")
        let writer = try ImageCodec.openWriter(path: path, width: width, height: height, colorChannels: 3, hasAlpha: false,
                                               bitDepth: 8, metadata: ImageMetadata(), options: options)
        var row = 0
        for (k, rows) in bands.enumerated() {
            try writer.writePacked(Array(samples[(row * 3 * width)..<((row + rows) * 3 * width)]), rows: rows, threads: allowed[k])
            row += rows
        }
        _ = try writer.finish()
        files.append(("threads per band \(allowed)", try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))))
    }
    for file in files.dropFirst() {
        #expect(file.bytes == files[0].bytes, "\(file.label): \(file.bytes.count) bytes; one thread: \(files[0].bytes.count)")
    }
    var planar = [Float](repeating: 0, count: samples.count)   // (3, H, W), the decoder's layout
    for p in 0..<(width * height) { for ch in 0..<3 { planar[ch * width * height + p] = Float(samples[p * 3 + ch]) / 255 } }
    let read = try ImageCodec.decode(path: dir.file("out-1312.png")).color.data
    #expect(read == planar, "libpng does not read back the samples")
}

/// The memory estimate holds one more block scratch per extra deflate worker, but only as many as
/// the output has whole 1 MiB blocks to share out, and none for zlib.
@Test func memoryEstimateCountsTheDeflateWorkers() throws {
    let model = try smallModel()   // ×2
    func encoder(width: Int, height: Int, threads: Int, encoder: PNGEncoder = .fastDeflate) -> Int {
        var encode = EncodeOptions()
        encode.pngEncoder = encoder
        encode.threads = threads
        let info = ImageInfo(format: .png, width: width, height: height, channels: 3, streamable: true)
        return model.memoryEstimate(for: info, run: RunOptions(), format: .png, encode: encode).encoder
    }
    let worker = DeflateBlock.Scratch.workerBytes
    // 1000×1000 → 2000×2000 RGB: 12 MB filtered, 11 whole blocks.
    #expect(encoder(width: 1000, height: 1000, threads: 1) == 0)
    #expect(encoder(width: 1000, height: 1000, threads: 3) == 2 * worker)
    #expect(encoder(width: 1000, height: 1000, threads: 3, encoder: .zlib) == 0)
    // 300×300 → 600×600 RGB: 1.08 MB filtered, one whole block: the parallel path never starts.
    #expect(encoder(width: 300, height: 300, threads: 3) == 0)
    // 420×420 → 840×840 RGB: 2.1 MB, two whole blocks: one extra worker at most.
    #expect(encoder(width: 420, height: 420, threads: 3) == worker)
}
