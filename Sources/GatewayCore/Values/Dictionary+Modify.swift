extension Dictionary {
    /// Changes the value stored for `key` in place, if there is one; returns whether there was.
    ///
    /// For the order path's large values (an account's `RiskBook`, its `AccountBook`). Changing one through
    /// the optional subscript, `books[id]?.apply(…)`, moves the value into the subscript's accessor frame,
    /// and for a value that large Swift allocates that frame on the heap: three allocations a change,
    /// about fifteen an order (counted with a `malloc` probe on the engine's thread in gateway-bench).
    /// Through its index the value is changed where it is stored, with no allocation.
    @inlinable
    @discardableResult
    public mutating func modifyValue(forKey key: Key, _ body: (inout Value) throws -> Void) rethrows -> Bool {
        guard let index = index(forKey: key) else { return false }
        try body(&values[index])
        return true
    }
}
