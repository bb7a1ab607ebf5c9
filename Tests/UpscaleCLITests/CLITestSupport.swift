import Foundation
import Testing
import UpscaleKit

/// Runs the built `upscale` executable and captures what it says.
struct CLIResult {
    var status: Int32
    var stdout: Data
    var stderr: String
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

enum CLI {
    /// The `upscale` binary under test: `UPSCALE_BIN` when set, else the one beside the running test
    /// product. `swift test` builds both into the same folder, `.build/<triple>/<debug|release>/`
    /// (UpscaleCLITests depends on the `upscale` target, so it is built first), so this is the binary
    /// of the sources being tested, never one left over from another build configuration.
    /// - Throws: `MissingBinary`, saying where it looked and what to do.
    static func executable() throws -> URL { try located.get() }

    private static let located: Result<URL, MissingBinary> = {
        let candidate: URL
        if let path = ProcessInfo.processInfo.environment["UPSCALE_BIN"] {
            candidate = URL(fileURLWithPath: path)
        } else if let testProduct = Bundle.main.executableURL {
            // On Linux the test product is itself an executable, `upscalePackageTests.xctest`.
            candidate = testProduct.deletingLastPathComponent().appendingPathComponent("upscale")
        } else {
            return .failure(MissingBinary(description: "cannot tell where the test product is to find the upscale binary beside it; set UPSCALE_BIN to the binary to test"))
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isFolder), !isFolder.boolValue,
              FileManager.default.isExecutableFile(atPath: candidate.path) else {
            let from = ProcessInfo.processInfo.environment["UPSCALE_BIN"] != nil ? " (from UPSCALE_BIN)" : ""
            return .failure(MissingBinary(description: "no upscale executable at \(candidate.path)\(from); run the tests with `swift test`, which builds it, or set UPSCALE_BIN to the binary to test"))
        }
        return .success(candidate)
    }()

    struct MissingBinary: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `upscale arguments...` in `directory` with `stdin` bytes; never a shell.
    static func run(_ arguments: [String], in directory: String? = nil, stdin: Data? = nil,
                    environment: [String: String] = [:]) throws -> CLIResult {
        let exe = try executable()
        let process = Process()
        process.executableURL = exe
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = "80"
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        // Drain stderr on another thread so neither pipe can fill up and stall the child.
        let errData = Locked<Data?>(nil)  // nil until the child closed stderr
        let errThread = Thread {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            errData.withLock { $0 = data }
        }
        errThread.start()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try? input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while errData.withLock({ $0 == nil }) { usleep(1000) }
        return CLIResult(status: process.terminationStatus, stdout: outData,
                         stderr: String(decoding: errData.withLock { $0 } ?? Data(), as: UTF8.self))
    }
}

/// A fresh temporary folder, removed by the caller.
func temporaryFolder() throws -> String {
    let path = NSTemporaryDirectory() + "upscale-cli-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A minimal PNG writer for fixtures, independent of the codec under test: 8-bit RGB, filter 0,
/// zlib "stored" blocks (no compression), CRC-32 and Adler-32 computed here.
enum TinyPNG {
    /// `pixels[(y * width + x) * 3 + c]`.
    static func rgb(width: Int, height: Int, pixels: [UInt8]) -> Data {
        precondition(pixels.count == width * height * 3)
        var raw: [UInt8] = []
        for y in 0..<height {
            raw.append(0)
            raw += pixels[(y * width * 3)..<((y + 1) * width * 3)]
        }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, raw.count - offset)
            let final: UInt8 = offset + n == raw.count ? 1 : 0
            zlib += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            zlib += raw[offset..<(offset + n)]
            offset += n
        } while offset < raw.count
        zlib += be32(adler32(raw))
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height)) + [8, 2, 0, 0, 0])
        png += chunk("IDAT", zlib)
        png += chunk("IEND", [])
        return Data(png)
    }

    /// A deterministic test pattern.
    static func pattern(width: Int, height: Int, seed: Int = 0) -> [UInt8] {
        (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ seed &* 101 &+ ($0 / 3) &* 11) }
    }

    /// Width and height from the IHDR of PNG bytes, or nil when they are not a PNG.
    static func size(_ data: Data) -> (width: Int, height: Int)? {
        let b = [UInt8](data)
        guard b.count >= 24, b[0] == 0x89, b[1] == 0x50, Array(b[12..<16]) == Array("IHDR".utf8) else { return nil }
        func u32(_ i: Int) -> Int { Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3]) }
        return (u32(16), u32(20))
    }

    static func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + body
        return be32(UInt32(body.count)) + typed + be32(crc32(typed))
    }
    private static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
    private static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return b << 16 | a
    }
}
