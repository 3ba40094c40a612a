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

/// Compared and hashed by value, as the value it boxes.
extension CopyOnWrite: Equatable where Value: Equatable {
    @inlinable public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.sharesStorage(with: rhs) || lhs.value == rhs.value
    }
}

extension CopyOnWrite: Hashable where Value: Hashable {
    @inlinable public func hash(into hasher: inout Hasher) { value.hash(into: &hasher) }
}

extension CopyOnWrite where Value: Equatable {
    /// A box for `value`, or none when it equals `empty`: for fields that most values leave unset, kept
    /// out of line and only where one is set (an order's rare terms, a paper order's links). Never an
    /// empty box, so that two holders with the same fields compare equal.
    @inlinable public init?(_ value: Value, unlessEqualTo empty: Value) {
        guard value != empty else { return nil }
        self.init(value)
    }

    /// `box` (none standing for `empty`) with one field of its value set: a box made when it is the
    /// first field set, none again when it leaves the value equal to `empty`.
    @inlinable public static func setting<Field>(
        _ field: WritableKeyPath<Value, Field>, to newValue: Field, in box: Self?, empty: Value
    ) -> Self? {
        var changed = box?.value ?? empty
        changed[keyPath: field] = newValue
        return Self(changed, unlessEqualTo: empty)
    }
}
