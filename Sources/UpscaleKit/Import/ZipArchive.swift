// The zip container of a PyTorch `.pth` (torch.save since PyTorch 1.6): read by hand, stored
// entries only (torch.save writes every entry uncompressed, its data aligned by padding in the
// local header's extra field).
//
//   end of central directory   signature 0x06054B50, in the last 65557 bytes: entry count (u16 @10),
//                              directory size (u32 @12), directory offset (u32 @16)
//   central directory entry    signature 0x02014B50: flags (u16 @8), method (u16 @10), CRC-32 (u32 @16),
//                              compressed size (u32 @20), size (u32 @24), name length (u16 @28),
//                              extra length (u16 @30), comment length (u16 @32), local header offset (u32 @42)
//   local header               signature 0x04034B50, name length (u16 @26), extra length (u16 @28);
//                              the data follows the name and the extra field
// Every offset and size is checked against the file before use; each entry's CRC-32 is checked
// when it is read. ZIP64, compression and encryption are refused.

struct ZipArchive {
    struct Entry {
        var name: String
        var dataOffset: Int
        var size: Int
        var crc32: UInt32
    }

    let bytes: [UInt8]
    let source: String
    private(set) var entries: [String: Entry] = [:]
    private(set) var names: [String] = []

    init(bytes: [UInt8], source: String) throws {
        self.bytes = bytes
        self.source = source
        func fail(_ what: String) -> ImportError { ImportError(.syntax, "\(source): \(what)") }
        guard bytes.count >= 22 else { throw fail("too short for a zip archive (a .pth written by torch.save is one)") }
        var eocd: Int? = nil
        var p = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65535)
        while p >= lowest {
            if u32(p) == 0x0605_4B50 { eocd = p; break }
            p -= 1
        }
        guard let end = eocd else {
            throw fail("no zip end-of-directory record: not a zip archive (a .pth from PyTorch before 1.6, a legacy tar or raw pickle, is not supported; re-save it with a current torch.save)")
        }
        let count = Int(u16(end + 10)), directorySize = Int(u32(end + 12)), directoryOffset = Int(u32(end + 16))
        guard count != 0xFFFF, directorySize != 0xFFFF_FFFF, directoryOffset != 0xFFFF_FFFF else {
            throw ImportError(.unsupported, "\(source): a ZIP64 archive; supported: plain zip archives (under 4 GB)")
        }
        guard directoryOffset <= end, directorySize <= end - directoryOffset else {
            throw fail("the zip directory (offset \(directoryOffset), \(directorySize) bytes) lies outside the file: truncated or corrupted")
        }
        var q = directoryOffset
        for index in 0..<count {
            guard q + 46 <= directoryOffset + directorySize, u32(q) == 0x0201_4B50 else {
                throw fail("zip directory entry \(index) is damaged (truncated or corrupted file)")
            }
            let flags = u16(q + 8), method = u16(q + 10)
            let crc = u32(q + 16), compressed = Int(u32(q + 20)), size = Int(u32(q + 24))
            let nameLength = Int(u16(q + 28)), extraLength = Int(u16(q + 30)), commentLength = Int(u16(q + 32))
            let local = Int(u32(q + 42))
            let next = q + 46 + nameLength + extraLength + commentLength
            guard next <= directoryOffset + directorySize else { throw fail("zip directory entry \(index) runs past the directory") }
            let name = String(decoding: bytes[(q + 46)..<(q + 46 + nameLength)], as: UTF8.self)
            guard flags & 1 == 0 else { throw ImportError(.unsupported, "\(source): zip entry \(name) is encrypted; supported: plain entries") }
            guard method == 0, compressed == size else {
                throw ImportError(.unsupported, "\(source): zip entry \(name) is compressed (method \(method)); supported: stored entries, as torch.save writes them")
            }
            guard local <= bytes.count - 30, u32(local) == 0x0403_4B50 else {
                throw fail("zip entry \(name): its local header at offset \(local) is missing (truncated or corrupted file)")
            }
            let dataOffset = local + 30 + Int(u16(local + 26)) + Int(u16(local + 28))
            guard dataOffset <= bytes.count, size <= bytes.count - dataOffset else {
                throw fail("zip entry \(name) (\(size) bytes at offset \(dataOffset)) runs past the end of the file: truncated")
            }
            guard entries[name] == nil else { throw fail("zip entry \(name) appears twice") }
            entries[name] = Entry(name: name, dataOffset: dataOffset, size: size, crc32: crc)
            names.append(name)
            q = next
        }
    }

    /// The bytes of entry `name`, CRC-checked.
    func data(_ name: String) throws -> ArraySlice<UInt8> {
        guard let e = entries[name] else { throw ImportError(.syntax, "\(source): the archive has no entry \(name)") }
        let slice = bytes[e.dataOffset..<(e.dataOffset + e.size)]
        guard ZipArchive.crc32(slice) == e.crc32 else {
            throw ImportError(.syntax, "\(source): zip entry \(name) fails its CRC-32 check (corrupted file)")
        }
        return slice
    }

    private func u16(_ p: Int) -> UInt16 { UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8 }
    private func u32(_ p: Int) -> UInt32 {
        UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
    }

    /// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zip stores it.
    static func crc32(_ data: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }

    static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
}
