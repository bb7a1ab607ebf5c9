/// A dense float32 tensor, row-major and contiguous.
///
/// Images travel through the engine as NCHW tensors: `(n, c, h, w)`, or `(c, h, w)` unbatched.
public struct Tensor: Sendable, Equatable {
    public private(set) var shape: [Int]
    public internal(set) var data: [Float]

    /// - Precondition: `data.count` equals the product of `shape`, and no dimension is negative.
    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative dimension")
        precondition(data.count == Tensor.elementCount(shape),
                     "Tensor data has \(data.count) elements, shape \(shape) needs \(Tensor.elementCount(shape))")
        self.shape = shape
        self.data = data
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: Tensor.elementCount(shape)))
    }

    /// A tensor whose elements `initialize` writes, every one of them: the storage is not
    /// zero-filled first (for kernels that write their whole output).
    public init(shape: [Int], initializingWith initialize: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        let count = Tensor.elementCount(shape)
        let data = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try initialize(buffer)
            initialized = count
        }
        self.init(shape: shape, data: data)
    }

    /// `init(shape:initializingWith:)` on the array `storage` holds (taken from it, so that it is
    /// not shared and no copy is made) when it has at least the elements needed, else on fresh
    /// memory. Its old values are garbage to `initialize`, which must write every element.
    init(shape: [Int], storage: FloatStorage?, initializingWith initialize: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        let count = Tensor.elementCount(shape)
        guard var data = storage?.take(), data.count >= count else {
            try self.init(shape: shape, initializingWith: initialize)
            return
        }
        data.removeLast(data.count - count)   // keeps the capacity
        try data.withUnsafeMutableBufferPointer { try initialize($0) }
        self.init(shape: shape, data: data)
    }

    public var rank: Int { shape.count }
    public var count: Int { data.count }

    /// Product of the dimensions (1 for a scalar shape `[]`).
    public static func elementCount(_ shape: [Int]) -> Int {
        shape.reduce(1, *)
    }

    /// Product of the dimensions, or nil when it does not fit in an `Int`.
    public static func checkedElementCount(_ shape: [Int]) -> Int? {
        var total = 1
        for dim in shape {
            guard dim >= 0 else { return nil }
            let (product, overflow) = total.multipliedReportingOverflow(by: dim)
            if overflow { return nil }
            total = product
        }
        return total
    }

    /// Mutable access to the storage, for kernels.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try data.withUnsafeMutableBufferPointer(body)
    }

    /// Read access to the storage, for kernels.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try data.withUnsafeBufferPointer(body)
    }
}

/// `body` with the storage of `t`, or nil when there is no tensor.
func withOptionalPointer<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
    guard let t else { return try body(nil) }
    return try t.withUnsafeBufferPointer { try body($0.baseAddress) }
}

/// `body` with the mutable storage of `t`, or nil when there is no tensor.
func withOptionalMutablePointer<R>(_ t: inout Tensor?, _ body: (UnsafeMutablePointer<Float>?) throws -> R) rethrows -> R {
    guard t != nil else { return try body(nil) }
    return try t!.withUnsafeMutableBufferPointer { try body($0.baseAddress) }
}

/// An array of floats kept from one use to the next (a band's stack output for the next band):
/// memory already faulted in, where a fresh allocation of tens of MiB would fault every page again.
final class FloatStorage {
    private var data: [Float] = []

    /// The array, left empty here: the caller owns it alone (no copy on write).
    func take() -> [Float] {
        defer { data = [] }
        return data
    }

    /// Keeps `tensor`'s storage for the next `take` (shared with the tensor until it is dropped).
    func keep(_ tensor: Tensor) { data = tensor.data }
}
