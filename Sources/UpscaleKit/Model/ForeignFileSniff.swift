// Files given where a weights file is expected that are something else, told by their first
// bytes (a weights file is safetensors: an 8-byte little-endian header length, then '{'):
//
//   7767517 (ASCII)            ncnn .param text, the network of an ncnn model
//   47 6B 30 01                ncnn .bin weights stored as float16 (the tag ncnn writes first)
//   00 00 00 00, then a float  ncnn .bin weights stored as float32 (tag 0, then the first weight,
//                              taken to be one when it is a normal float32 of magnitude 1e-8...1e4);
//                              a safetensors length with these low bytes would be 4 GB or more
//   50 4B 03 04 (PK)           a zip archive: PyTorch's .pth since 1.6
//   80 02 8A 0A 6C FC 9C 46    a pickle of PyTorch's legacy .pth magic number
//   89 50 4E 47, FF D8 FF,     PNG, JPEG, GIF, WebP images
//   GIF8, RIFF....WEBP

enum ForeignFileSniff {
    /// What the file whose first bytes are `head` is, when it is a known file that is not a
    /// weights file: a phrase to follow the file's name, with what to do. Nil otherwise.
    static func describe(_ head: ArraySlice<UInt8>) -> String? {
        let b = Array(head.prefix(16))
        func starts(_ prefix: [UInt8]) -> Bool { b.starts(with: prefix) }
        if starts(Array("7767517".utf8)) {
            return "is an ncnn .param file (a network description), not an upscale weights file; convert the model "
                + "with `upscale import FILE.param -o model.bin`, then pass -m model.bin"
        }
        if starts([0x47, 0x6B, 0x30, 0x01]) || (starts([0, 0, 0, 0]) && looksLikeAWeight(b.dropFirst(4))) {
            return "looks like the weights of an ncnn model (its .bin), not an upscale weights file; convert the "
                + "model from its .param with `upscale import FILE.param -o model.bin`, then pass -m model.bin"
        }
        if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46]) {
            return "is a PyTorch .pth file (or another zip archive), not an upscale weights file; convert a "
                + "state dict with `upscale import FILE.pth --arch srvgg|upconv7|vgg7 -o model.bin`, then pass -m model.bin"
        }
        let image: String?
        if starts([0x89, 0x50, 0x4E, 0x47]) {
            image = "PNG"
        } else if starts([0xFF, 0xD8, 0xFF]) {
            image = "JPEG"
        } else if starts(Array("GIF8".utf8)) {
            image = "GIF"
        } else if b.count >= 12 && starts(Array("RIFF".utf8)) && Array(b[8..<12]) == Array("WEBP".utf8) {
            image = "WebP"
        } else {
            image = nil
        }
        if let image {
            return "is a \(image) image, not a model weights file; images are the inputs (`upscale IMAGE -m MODEL`), "
                + "and `upscale models` lists the built-in models"
        }
        return nil
    }

    /// Four little-endian bytes that read as a float32 weight: normal (not 0, subnormal, inf or
    /// NaN) and of a magnitude a network's weights have.
    private static func looksLikeAWeight(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count >= 4 else { return false }
        let b = Array(bytes.prefix(4))
        let value = Float(bitPattern: UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24)
        return value.isNormal && (1e-8...1e4).contains(abs(value))
    }
}
