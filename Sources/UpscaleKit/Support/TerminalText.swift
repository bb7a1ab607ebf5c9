// Text that came from a file or an argument (a file name, a model's metadata, a path in a
// message) is shown escaped, so that it cannot drive the terminal: a name holding `\e[2J` must
// not clear the screen, nor a newline fake a line of output. The rules (docs/cli.md, "Escaping"):
//
//   a byte of a path that is not UTF-8 (PathBytes)      \xe9    two lower-case hex digits
//   C0 controls U+0000–U+001F and DEL U+007F            \x1b    (a newline too: \x0a)
//   C1 controls U+0080–U+009F, the line and paragraph   \u009b  four lower-case hex digits
//   separators U+2028/U+2029, the bidirectional
//   controls U+200E/F, U+202A–U+202E, U+2066–U+2069
//
// Everything else, a backslash included, is shown as it is. The escaped text is for people;
// `--json` keeps the exact text (`jsonSafe`), plus the bytes of a path that is not UTF-8.

/// Escaping of untrusted text for a terminal, and for JSON.
public enum TerminalText {
    /// `text` with every scalar that could control a terminal, and every escaped path byte, written
    /// as an escape. `keepNewlines`: newlines stay (for text that is ours and spans lines, such as
    /// help; the names inside it are then still escaped by whoever put them there).
    public static func escape(_ text: String, keepNewlines: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0) && !(keepNewlines && $0 == "\n") }) else {
            return text
        }
        var out = ""
        for scalar in text.unicodeScalars {
            if let byte = PathBytes.escapedByte(scalar) {
                out += "\\x" + hex(UInt32(byte), digits: 2)
            } else if keepNewlines && scalar == "\n" || !needsEscape(scalar) {
                out.unicodeScalars.append(scalar)
            } else if scalar.value < 0x80 {
                out += "\\x" + hex(scalar.value, digits: 2)
            } else {
                out += "\\u" + hex(scalar.value, digits: 4)
            }
        }
        return out
    }

    /// True for the scalars `escape` rewrites.
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return scalar.value >= PathBytes.escapeBase
        }
    }

    /// A path as `--json` writes it in its text field: exact when its bytes are UTF-8 (JSON escapes
    /// what needs it), else with each byte that is not UTF-8 written `\xNN`; `hex` is then set too.
    public static func jsonPath(_ path: String) -> (text: String, hex: String?) {
        if PathBytes.isUTF8(path) { return (path, nil) }
        return (bytesAsText(path), PathBytes.bytes(path).map { hex(UInt32($0), digits: 2) }.joined())
    }

    /// `text` with each escaped path byte written `\xNN`, every other scalar as it is: for messages
    /// in `--json`, which are text for people that JSON escapes exactly.
    public static func bytesAsText(_ text: String) -> String {
        guard !PathBytes.isUTF8(text) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if let byte = PathBytes.escapedByte(scalar) {
                out += "\\x" + hex(UInt32(byte), digits: 2)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A JSON document from JSONEncoder with DEL, the C1 controls, the line and paragraph separators
    /// and the bidirectional controls written as `\uXXXX` escapes (JSONEncoder escapes only
    /// U+0000–U+001F), so that the document shown on a terminal cannot drive it. These scalars
    /// occur only inside strings, where the escape stands for the same text: the JSON is unchanged.
    /// An escaped path byte left in a string (in a message) becomes the text `\xNN`, as `bytesAsText`.
    public static func jsonSafe(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: needsEscape) else { return json }
        var out = ""
        for scalar in json.unicodeScalars {
            if let byte = PathBytes.escapedByte(scalar) {
                out += "\\\\x" + hex(UInt32(byte), digits: 2)  // the text \xNN, its backslash escaped
            } else if needsEscape(scalar), scalar.value >= 0x7F {
                out += "\\u" + hex(scalar.value, digits: 4)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
