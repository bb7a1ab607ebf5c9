// The pickle inside a `.pth`, read by a restricted interpreter that understands only what a
// tensor state dict needs and executes nothing.
//
// Accepted opcodes (protocols 2–5): PROTO, FRAME, STOP, MARK, POP, the memo (BINPUT, LONG_BINPUT,
// MEMOIZE, BINGET, LONG_BINGET), constants (NONE, NEWTRUE, NEWFALSE, BININT, BININT1, BININT2,
// LONG1, BINFLOAT, BINUNICODE, SHORT_BINUNICODE, BINUNICODE8, BINBYTES, SHORT_BINBYTES),
// containers (EMPTY_TUPLE, TUPLE, TUPLE1–3, EMPTY_LIST, APPEND, APPENDS, EMPTY_DICT, SETITEM,
// SETITEMS), GLOBAL and STACK_GLOBAL (only the names below), REDUCE (only the calls below), BUILD
// (on a dict: the state, e.g. a state dict's `_metadata`, is dropped) and BINPERSID (torch's
// storage references). Lists, strings and numbers occur in checkpoints that wrap a state dict
// with their training settings (nunif's waifu2x models); they are read and ignored. Any other
// opcode or global is refused, naming it.
//
// Nesting is bounded (`maxDepth`), so that no hostile pickle can build a structure deep enough to
// exhaust the stack when it is freed: a tuple's depth is fixed when it is made, and a dict or list
// is frozen (no more SETITEM or APPEND) once it is inside another container, so its depth is fixed
// then too.
//
// Globals and what "calling" them means here (no Python object is ever made):
//   collections.OrderedDict()                      an empty dict
//   torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])
//                                                  a tensor view of a storage
//   torch._utils._rebuild_parameter(tensor, requires_grad, hooks)   the tensor
//   torch.{Float,Half,BFloat16,Double}Storage      storage types, inside persistent ids
// A persistent id is ('storage', storage type, key, location, element count): the storage is the
// archive's entry `data/key`.

/// A dict or list, filled after it is made (SETITEMS on a memoised dict), so it is shared.
final class PickleContainer {
    var pairs: [(PickleValue, PickleValue)] = []   // a dict's entries, in order
    var items: [PickleValue] = []                  // a list's items
    var depth = 1
    /// Set once the container is inside another one: from then on it cannot change.
    var frozen = false

    /// Adds `value` (already frozen by the caller) and updates the depth.
    func grow(by value: PickleValue) { depth = max(depth, 1 + value.depth) }
}

/// A tuple and its nesting depth (1 + its deepest item's).
final class PickleTuple {
    let items: [PickleValue]
    let depth: Int
    init(_ items: [PickleValue]) {
        self.items = items
        self.depth = 1 + (items.map(\.depth).max() ?? 0)
    }
}

/// The storage types a tensor may use.
enum PickleStorageType: String {
    case float = "FloatStorage", half = "HalfStorage", bfloat16 = "BFloat16Storage", double = "DoubleStorage"
    var byteCount: Int {
        switch self {
        case .float: return 4
        case .half, .bfloat16: return 2
        case .double: return 8
        }
    }
}

/// A tensor as the pickle describes it: a strided view of an archive entry.
struct PickleTensor {
    var storageKey: String
    var storageType: PickleStorageType
    var storageCount: Int
    var offset: Int
    var size: [Int]
    var stride: [Int]
}

indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PickleTuple)
    case list(PickleContainer)
    case dict(PickleContainer)
    case global(String)
    case storage(type: PickleStorageType, key: String, count: Int)
    case tensor(PickleTensor)
    case mark

    var describe: String {
        switch self {
        case .none: return "None"
        case .bool: return "a bool"
        case .int(let v): return "the integer \(v)"
        case .float: return "a float"
        case .string(let s): return "the string \"\(s.prefix(40))\""
        case .bytes: return "bytes"
        case .tuple: return "a tuple"
        case .list: return "a list"
        case .dict: return "a dict"
        case .global(let g): return g
        case .storage: return "a storage"
        case .tensor: return "a tensor"
        case .mark: return "a mark"
        }
    }

    /// Containers inside containers, counting this one (0 for anything else).
    var depth: Int {
        switch self {
        case .tuple(let t): return t.depth
        case .list(let c), .dict(let c): return c.depth
        default: return 0
        }
    }
}

struct StateDictPickle {
    static let maxStack = 1 << 20
    static let maxMemo = 1 << 20
    static let maxDepth = 32
    static let allowedGlobals: Set<String> = [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.DoubleStorage",
    ]

    let bytes: ArraySlice<UInt8>
    let source: String
    private var p: Int
    private var stack: [PickleValue] = []
    private var memo: [Int: PickleValue] = [:]

    /// Runs the pickle `bytes` (the archive entry `data.pkl`) and returns the value it builds.
    static func load(_ bytes: ArraySlice<UInt8>, source: String) throws -> PickleValue {
        var machine = StateDictPickle(bytes: bytes, source: source, p: bytes.startIndex)
        return try machine.run()
    }

    private init(bytes: ArraySlice<UInt8>, source: String, p: Int) {
        self.bytes = bytes
        self.source = source
        self.p = p
    }

    private func fail(_ what: String) -> ImportError {
        ImportError(.syntax, "\(source): the pickle (data.pkl) at byte \(p - bytes.startIndex): \(what)")
    }

    private func refuse(_ what: String) -> ImportError {
        ImportError(.unsupported, "\(source): the pickle (data.pkl) at byte \(p - bytes.startIndex): \(what); a .pth must hold only a state dict of tensors (upscale never runs code from a pickle)")
    }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.endIndex - p else { throw fail("truncated (an operation needs \(n) more bytes)") }
        defer { p += n }
        return bytes[p..<(p + n)]
    }

    private mutating func uint(_ n: Int) throws -> Int {
        let b = try take(n)
        var v: UInt64 = 0
        for (i, byte) in b.enumerated() { v |= UInt64(byte) << (8 * UInt64(i)) }
        guard v <= UInt64(Int.max) else { throw fail("a length \(v) is too large") }
        return Int(v)
    }

    private mutating func line() throws -> String {
        guard let nl = bytes[p...].firstIndex(of: 0x0A), nl - p <= 256 else { throw fail("a GLOBAL name without its newline") }
        defer { p = nl + 1 }
        return String(decoding: bytes[p..<nl], as: UTF8.self)
    }

    private mutating func push(_ v: PickleValue) throws {
        guard stack.count < StateDictPickle.maxStack else { throw fail("the stack grows past \(StateDictPickle.maxStack) values") }
        stack.append(v)
    }

    private mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("an operation needs a value but the stack is empty") }
        if case .mark = v { throw fail("an operation needs a value but found a mark") }
        return v
    }

    /// The values above the topmost mark, which is removed.
    private mutating func popMark() throws -> [PickleValue] {
        guard let m = stack.lastIndex(where: { if case .mark = $0 { return true }; return false }) else {
            throw fail("no mark on the stack")
        }
        let items = Array(stack[(m + 1)...])
        stack.removeSubrange(m...)
        return items
    }

    private mutating func memoize(_ key: Int) throws {
        guard let top = stack.last else { throw fail("memoising with an empty stack") }
        guard memo.count < StateDictPickle.maxMemo || memo[key] != nil else { throw fail("too many memo entries") }
        memo[key] = top
    }

    /// Marks `v` as inside a container (a dict then cannot change) and bounds the nesting.
    private func contain(_ v: PickleValue) throws {
        guard v.depth < StateDictPickle.maxDepth else { throw refuse("containers nested more than \(StateDictPickle.maxDepth) deep") }
        switch v {
        case .dict(let c), .list(let c): c.frozen = true
        default: break
        }
    }

    private func tuple(_ items: [PickleValue]) throws -> PickleValue {
        for item in items { try contain(item) }
        return .tuple(PickleTuple(items))
    }

    private mutating func global(_ name: String) throws -> PickleValue {
        guard StateDictPickle.allowedGlobals.contains(name) else {
            throw refuse("global \(name) is not allowed (allowed: \(StateDictPickle.allowedGlobals.sorted().joined(separator: ", ")))")
        }
        return .global(name)
    }

    private mutating func run() throws -> PickleValue {
        while true {
            let op = try take(1)[p - 1]
            switch op {
            case 0x80: _ = try take(1)                                   // PROTO
            case 0x95: _ = try take(8)                                   // FRAME
            case 0x2E:                                                   // STOP
                let v = try pop()
                return v
            case 0x28: try push(.mark)                                   // MARK
            case 0x30: _ = try pop()                                     // POP
            case 0x71: try memoize(try uint(1))                          // BINPUT
            case 0x72: try memoize(try uint(4))                          // LONG_BINPUT
            case 0x94: try memoize(memo.count)                           // MEMOIZE
            case 0x68, 0x6A:                                             // BINGET, LONG_BINGET
                let key = try uint(op == 0x68 ? 1 : 4)
                guard let v = memo[key] else { throw fail("memo entry \(key) is read before it is written") }
                try push(v)
            case 0x4E: try push(.none)                                   // NONE
            case 0x88: try push(.bool(true))                             // NEWTRUE
            case 0x89: try push(.bool(false))                            // NEWFALSE
            case 0x4B: try push(.int(try uint(1)))                       // BININT1
            case 0x4D: try push(.int(try uint(2)))                       // BININT2
            case 0x4A: try push(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))   // BININT
            case 0x8A: try push(.int(try long1()))                       // LONG1
            case 0x47:                                                   // BINFLOAT (big-endian)
                let b = try take(8)
                try push(.float(Double(bitPattern: b.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))
            case 0x58, 0x8C, 0x8D:                                       // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
                let n = try uint(op == 0x8C ? 1 : (op == 0x58 ? 4 : 8))
                try push(.string(String(decoding: try take(n), as: UTF8.self)))
            case 0x42, 0x43:                                             // BINBYTES, SHORT_BINBYTES
                try push(.bytes(Array(try take(try uint(op == 0x43 ? 1 : 4)))))
            case 0x29: try push(try tuple([]))                           // EMPTY_TUPLE
            case 0x74: try push(try tuple(try popMark()))                // TUPLE
            case 0x85, 0x86, 0x87:                                       // TUPLE1, TUPLE2, TUPLE3
                var items: [PickleValue] = []
                for _ in 0..<Int(op - 0x84) { items.insert(try pop(), at: 0) }
                try push(try tuple(items))
            case 0x5D: try push(.list(PickleContainer()))                // EMPTY_LIST
            case 0x61: try append([try pop()])                           // APPEND
            case 0x65: try append(try popMark())                         // APPENDS
            case 0x7D: try push(.dict(PickleContainer()))                // EMPTY_DICT
            case 0x73:                                                   // SETITEM
                let value = try pop(), key = try pop()
                try setItems([key, value])
            case 0x75: try setItems(try popMark())                       // SETITEMS
            case 0x63:                                                   // GLOBAL
                let module = try line(), name = try line()
                try push(try global(module + "." + name))
            case 0x93:                                                   // STACK_GLOBAL
                guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
                    throw fail("STACK_GLOBAL without two strings")
                }
                try push(try global(module + "." + name))
            case 0x51:                                                   // BINPERSID
                try push(try persistent(try pop()))
            case 0x52:                                                   // REDUCE
                let args = try pop(), callable = try pop()
                try push(try call(callable, args))
            case 0x62:                                                   // BUILD
                _ = try pop()
                guard case .dict? = stack.last else { throw refuse("BUILD (setting an object's state) on \(stack.last?.describe ?? "nothing"); allowed only on a dict") }
            default:
                throw refuse("opcode 0x\(String(op, radix: 16, uppercase: true)) is not supported")
            }
        }
    }

    /// LONG1's operand: a little-endian two's-complement integer of at most 8 bytes.
    private mutating func long1() throws -> Int {
        let n = try uint(1)
        guard n <= 8 else { throw refuse("an integer of \(n) bytes") }
        let b = try take(n)
        var v: Int64 = 0
        for (i, byte) in b.enumerated() { v |= Int64(byte) << (8 * Int64(i)) }
        if let top = b.last, n < 8, top & 0x80 != 0 { v -= Int64(1) << (8 * Int64(n)) }   // negative
        return Int(v)
    }

    /// APPEND(S): `items` onto the list on top of the stack (never one already inside another container).
    private mutating func append(_ items: [PickleValue]) throws {
        guard case .list(let list)? = stack.last else { throw fail("APPEND to something that is not a list") }
        guard !list.frozen else { throw refuse("a list changed after it was put inside another container") }
        for item in items {
            try contain(item)
            list.items.append(item)
            list.grow(by: item)
        }
    }

    /// SETITEM(S): `items` (key, value, key, value, …) into the dict on top of the stack.
    private mutating func setItems(_ items: [PickleValue]) throws {
        guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of values") }
        guard case .dict(let dict)? = stack.last else { throw fail("SETITEM on something that is not a dict") }
        guard !dict.frozen else { throw refuse("a dict changed after it was put inside another container") }
        for i in stride(from: 0, to: items.count, by: 2) {
            try contain(items[i]); try contain(items[i + 1])
            dict.pairs.append((items[i], items[i + 1]))
            dict.grow(by: items[i]); dict.grow(by: items[i + 1])
        }
    }

    /// ('storage', storage type, key, location, count) → a storage reference.
    private func persistent(_ pid: PickleValue) throws -> PickleValue {
        guard case .tuple(let tuple) = pid, case let t = tuple.items, t.count == 5, case .string("storage") = t[0], case .global(let typeName) = t[1],
              case .string(let key) = t[2], case .int(let count) = t[4], count >= 0 else {
            throw refuse("a persistent id that is not ('storage', type, key, location, count)")
        }
        guard let type = PickleStorageType(rawValue: String(typeName.dropFirst("torch.".count))) else {
            throw refuse("storage type \(typeName)")
        }
        return .storage(type: type, key: key, count: count)
    }

    private func call(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case .global(let name) = callable, case .tuple(let tuple) = args else {
            throw refuse("REDUCE of \(callable.describe) (only the allowed globals may be called)")
        }
        let a = tuple.items
        switch name {
        case "collections.OrderedDict":
            guard a.isEmpty else { throw refuse("OrderedDict called with arguments") }
            return .dict(PickleContainer())
        case "torch._utils._rebuild_parameter":
            guard a.count == 3, case .tensor = a[0] else { throw refuse("_rebuild_parameter without a tensor") }
            return a[0]
        case "torch._utils._rebuild_tensor_v2":
            guard a.count == 6 || a.count == 7, case .storage(let type, let key, let count) = a[0], case .int(let offset) = a[1],
                  case .tuple(let sizeTuple) = a[2], case .tuple(let strideTuple) = a[3] else {
                throw refuse("_rebuild_tensor_v2 with arguments other than (storage, offset, size, stride, requires_grad, hooks)")
            }
            func ints(_ values: [PickleValue]) throws -> [Int] {
                try values.map { v -> Int in
                    guard case .int(let i) = v else { throw refuse("a tensor size or stride that is not an integer") }
                    return i
                }
            }
            return .tensor(PickleTensor(storageKey: key, storageType: type, storageCount: count, offset: offset,
                                        size: try ints(sizeTuple.items), stride: try ints(strideTuple.items)))
        default:
            throw refuse("calling \(name)")
        }
    }
}
