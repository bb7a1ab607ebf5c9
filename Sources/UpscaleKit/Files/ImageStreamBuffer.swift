// One encoded image read from a stream (stdin) through its last byte and no further, so that what
// follows it is never read, and what is held is the image itself: at most `limit` bytes. The end
// of the image comes from its container's structure alone; nothing is decoded here:
//
//   PNG    the signature, then chunks (4-byte length, type, data, CRC) through IEND
//   JPEG   SOI, then markers: a standalone one (RSTn, TEM), or a segment with a 2-byte length;
//          SOS's segment is followed by entropy-coded data, which ends at the first 0xFF followed
//          by neither 0x00 (a stuffed byte), 0xFF (fill) nor a restart marker; through EOI.
//          Bytes between markers that are not one are passed over, as libjpeg does.
//   RIFF   (WebP) "RIFF", the little-endian payload length, the payload (padded to even)
//   other  the first 8 bytes: enough for the decoder to say what the data is not
//
// Where the structure breaks (a chunk type that is not letters, a segment length under 2, the end
// of the stream), reading stops, and the decoder reports the problem from the bytes read.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A growing buffer of the bytes read so far from a descriptor, and the structure walk above.
final class ImageStreamBuffer {
    let descriptor: Int32
    let name: String   // for messages: "stdin"
    let limit: Int     // bytes the image may take
    private var base: UnsafeMutableRawPointer?  // (capacity) bytes from malloc, the first `count` read
    private var capacity: Int
    private(set) var count = 0
    private var atEnd = false
    /// The most read past what the structure asks for at a time.
    static let readAhead = 1 << 16

    init(descriptor: Int32, name: String, limit: Int) throws {
        self.descriptor = descriptor
        self.name = name
        self.limit = max(1, limit)
        capacity = min(self.limit, Self.readAhead)
        guard let base = malloc(capacity) else { throw ImageBytes.ReadFailure(code: ENOMEM) }
        self.base = base
    }

    deinit { free(base) }

    /// Hands over the bytes read (memory from malloc, `count` of them); the buffer is empty after.
    func take() -> (base: UnsafeMutableRawPointer, count: Int) {
        defer { base = nil; capacity = 0; count = 0 }
        return (base!, count)  // set from init until taken, and taken once
    }

    /// Reads the image: its container's structure says where it ends. The bytes read past that
    /// end (up to `readAhead` of them) are dropped; where the structure breaks, all read are kept.
    func readImage() throws {
        guard try fill(8) else { return }
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var end: Int?
        if (0..<8).allSatisfy({ byte($0) == png[$0] }) {
            end = try endOfPNG()
        } else if byte(0) == 0xFF && byte(1) == 0xD8 && byte(2) == 0xFF {
            end = try endOfJPEG()
        } else if (0..<4).allSatisfy({ byte($0) == Array("RIFF".utf8)[$0] }) {
            let payload = littleEndian32(4)
            end = try fill(8 + payload + payload % 2) ? 8 + payload + payload % 2 : nil
        } else {
            end = 8
        }
        if let end { count = min(count, end) }
    }

    // MARK: Containers

    /// The end of the IEND chunk, walking the chunks from offset 8; nil where the structure breaks.
    private func endOfPNG() throws -> Int? {
        var chunk = 8
        while try fill(chunk + 8) {
            let length = bigEndian(chunk, bytes: 4)
            let isLetter = { (b: UInt8) in (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) }
            guard length <= 0x7FFF_FFFF, (4..<8).allSatisfy({ isLetter(byte(chunk + $0)) }) else { return nil }
            let end = chunk + 12 + length
            guard try fill(end) else { return nil }
            if (4..<8).map({ byte(chunk + $0) }) == Array("IEND".utf8) { return end }
            chunk = end
        }
        return nil
    }

    /// The end of the EOI marker, walking the markers from offset 2; nil where the structure breaks.
    private func endOfJPEG() throws -> Int? {
        var at = 2
        while true {
            guard let ff = try nextFF(from: at), try fill(ff + 2) else { return nil }
            let marker = byte(ff + 1)
            at = ff + 2
            switch marker {
            case 0xFF: at = ff + 1                 // a fill byte before the marker
            case 0x00, 0x01, 0xD0...0xD7: break    // not a marker here (skipped), TEM, RSTn: no length
            case 0xD8: return nil                  // a second SOI: the decoder refuses the file
            case 0xD9: return at                   // EOI
            default:
                guard try fill(at + 2) else { return nil }
                let length = bigEndian(at, bytes: 2)
                guard length >= 2 else { return nil }
                at += length
                guard try fill(at) else { return nil }
                if marker == 0xDA {                // SOS: the scan's entropy-coded data follows
                    guard let end = try endOfEntropyCodedData(from: at) else { return nil }
                    at = end
                }
            }
        }
    }

    /// The offset of the marker that ends the entropy-coded data starting at `start`, or nil when
    /// the stream ends first.
    private func endOfEntropyCodedData(from start: Int) throws -> Int? {
        var at = start
        while let ff = try nextFF(from: at), try fill(ff + 2) {
            let next = byte(ff + 1)
            if next == 0x00 || (0xD0...0xD7).contains(next) {
                at = ff + 2
            } else if next == 0xFF {
                at = ff + 1
            } else {
                return ff
            }
        }
        return nil
    }

    /// The offset of the first 0xFF at or after `start`, reading on as needed; nil at the end.
    private func nextFF(from start: Int) throws -> Int? {
        var at = start
        while try fill(at + 1) {
            if let found = memchr(base! + at, 0xFF, count - at) {
                return base!.distance(to: found)
            }
            at = count
        }
        return nil
    }

    // MARK: Reading

    /// Makes the first `wanted` bytes available; false when the stream ends before.
    /// - Throws: `ImageIOError(kind: .overMemoryBudget)` when `wanted` is over the limit,
    ///   `ImageBytes.ReadFailure` when a read fails.
    private func fill(_ wanted: Int) throws -> Bool {
        while count < wanted {
            if atEnd { return false }
            guard wanted <= limit else {
                throw ImageIOError(path: name, message: "the image is more than the memory budget of "
                    + "\(MemoryBudget.format(limit)), and an image from stdin is held in memory whole; raise the budget, "
                    + "or pass the file by its path, which is read as it is decoded", kind: .overMemoryBudget)
            }
            if count == capacity { try grow(toAtLeast: wanted) }
            let want = min(capacity, max(wanted, count + Self.readAhead)) - count
            let got = read(descriptor, base! + count, want)
            if got < 0 {
                if errno == EINTR { continue }
                throw ImageBytes.ReadFailure(code: errno)
            }
            if got == 0 { atEnd = true }
            count += got
        }
        return true
    }

    /// Doubles the buffer (at least to `wanted`, at most to the limit).
    private func grow(toAtLeast wanted: Int) throws {
        let grown = min(limit, max(wanted, 2 * capacity))
        guard let moved = realloc(base, grown) else { throw ImageBytes.ReadFailure(code: ENOMEM) }
        base = moved
        capacity = grown
    }

    private func byte(_ offset: Int) -> UInt8 {
        base!.load(fromByteOffset: offset, as: UInt8.self)
    }

    private func bigEndian(_ offset: Int, bytes: Int) -> Int {
        (0..<bytes).reduce(0) { $0 << 8 | Int(byte(offset + $1)) }
    }

    private func littleEndian32(_ offset: Int) -> Int {
        (0..<4).reversed().reduce(0) { $0 << 8 | Int(byte(offset + $1)) }
    }
}
