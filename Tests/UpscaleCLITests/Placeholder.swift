import Testing
@Test func cliPending() { #expect(1 + 1 == 2) }
