/// A value kept on the heap and shared by every copy until one of them changes it (copy-on-write), the
/// way the standard library's collections keep their elements: holding or copying it costs one
/// reference whatever the value's size. For the structs held once per open order (an order's fields, the
/// paper broker's resting order), whose dictionaries would otherwise hold each struct inline in about
/// twice as many buckets as orders (docs/performance.md, memory).
public struct CopyOnWrite<Value> {
    @usableFromInline
    final class Storage {
        // Changed only through `value`'s modify accessor, which first makes the storage unique. Not
        // checked for exclusive access at run time: every order's fields are read through here, several
        // times an order, and the check (a thread-local access set each time) cost more than the read.
        @exclusivity(unchecked) @usableFromInline var value: Value
        @inlinable init(_ value: Value) { self.value = value }
    }

    @usableFromInline var storage: Storage

    @inlinable public init(_ value: Value) { storage = Storage(value) }

    @inlinable public var value: Value {
        get { storage.value }
        _modify {
            if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.value) }
            yield &storage.value
        }
    }

    /// Whether `other` is a copy that shares this one's storage (then their values are equal).
    @inlinable public func sharesStorage(with other: Self) -> Bool { storage === other.storage }
}

// The storage is only ever changed when no other copy refers to it.
extension CopyOnWrite: @unchecked Sendable where Value: Sendable {}
