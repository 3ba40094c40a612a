import Testing

@testable import GatewayCore

/// Every open order's terms are one allocation; with 100 000 resting orders a size class more is about
/// 3 MiB (from 160 to 192 bytes), of a memory target that has only a few MiB to spare.
@Suite struct OrderLayoutTests {
    /// The terms' box (the object's 16-byte header and the terms) fits the allocator's 160-byte class,
    /// jemalloc's and glibc's alike: a term added to `Order.Terms` belongs among its rare ones unless most
    /// orders set it.
    @Test func theTermsBoxFitsIn160Bytes() {
        #expect(16 + MemoryLayout<Order.Terms>.size <= 160)
    }
}
