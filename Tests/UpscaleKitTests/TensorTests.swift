import Testing
@testable import UpscaleKit

@Test func tensorElementCount() {
    #expect(Tensor.elementCount([2, 3, 4]) == 24)
    #expect(Tensor.checkedElementCount([Int.max, 2]) == nil)
    #expect(Tensor(zeros: [1, 2, 3]).data == [Float](repeating: 0, count: 6))
}
