extension FIXValidator {
    /// One pass over a message in wire order with no allocation: true when the message has none of the
    /// faults ``validateInOrder(_:)`` looks for. A false sends the message to the ordered validation,
    /// which names the fault QuickFIX would name first; valid messages never take that path.
    mutating func isValidFast(_ message: FIXMessage) -> Bool {
        guard let msgType = message.bytes(FIXTag.msgType), let layout = dictionary.layout(forMsgType: msgType) else {
            return false
        }
        let fields = message.fields
        var part = 0
        var index = 0
        var valid = true
        message.storage.withUnsafeBufferPointer { storage in
            while valid, index < fields.count {
                let field = fields[index]
                let tag = field.tag
                if dictionary.isHeaderField(tag) {
                    guard part == 0, checkField(tag, storage[field.range], level: 0) else { return valid = false }
                    index += 1
                    if let group = dictionary.header.groups[tag] {
                        guard countEntries(of: group, at: &index, fields, storage, depth: 3) != nil else {
                            return valid = false
                        }
                    }
                } else if dictionary.isTrailerField(tag) {
                    part = 2
                    guard checkField(tag, storage[field.range], level: 1) else { return valid = false }
                    index += 1
                } else {
                    guard part != 2, layout.allows(tag), checkField(tag, storage[field.range], level: 2) else {
                        return valid = false
                    }
                    part = 1
                    index += 1
                    if let group = layout.groups[tag] {
                        guard let count = countEntries(of: group, at: &index, fields, storage, depth: 3),
                            FIXFormat.integer(storage[field.range]) == count
                        else { return valid = false }
                    }
                }
            }
        }
        if valid {
            valid =
                hasAll(dictionary.header.required, level: 0) && hasAll(dictionary.trailer.required, level: 1)
                && hasAll(layout.required, level: 2)
        }
        for field in fields {
            scratch[0].remove(field.tag)
            scratch[1].remove(field.tag)
            scratch[2].remove(field.tag)
        }
        return valid
    }

    /// The checks of one field at one level: not repeated there, a value, its format and enum, a tag the
    /// dictionary defines. Marks the tag as seen at `level`.
    @inline(__always)
    private mutating func checkField(_ tag: Int, _ value: Slice<UnsafeBufferPointer<UInt8>>, level: Int) -> Bool {
        guard !value.isEmpty, !scratch[level].contains(tag), let type = dictionary.type(of: tag) else { return false }
        scratch[level].insert(tag)
        let bytes = UnsafeBufferPointer(rebasing: value)
        return Self.hasValidFormat(bytes, type) && dictionary.allows(bytes, for: tag, type: type)
    }

    private func hasAll(_ required: [Int], level: Int) -> Bool {
        for tag in required where !scratch[level].contains(tag) { return false }
        return true
    }

    /// Reads a group's entries from `index` as QuickFIX does, checking each field and each entry's
    /// required fields; returns the number of entries, nil on any fault.
    private mutating func countEntries(
        of group: FIXGroupLayout, at index: inout Int, _ fields: [FIXField], _ storage: UnsafeBufferPointer<UInt8>,
        depth: Int
    ) -> Int? {
        while scratch.count <= depth { scratch.append(FIXTagSet(maximumTag: 1024)) }
        var count = 0
        var entryStart = -1
        var valid = true
        func finishEntry(_ validator: inout FIXValidator, upTo end: Int) {
            guard entryStart >= 0 else { return }
            if !validator.hasAll(group.entry.required, level: depth) { valid = false }
            for position in entryStart..<end { validator.scratch[depth].remove(fields[position].tag) }
        }
        while valid, index < fields.count {
            let field = fields[index]
            let tag = field.tag
            let inGroup = group.entry.allows(tag)
            if tag == group.delimiter || (inGroup && (entryStart < 0 || scratch[depth].contains(tag))) {
                finishEntry(&self, upTo: index)
                entryStart = index
                count += 1
            } else if !inGroup {
                break
            }
            guard checkField(tag, storage[field.range], level: depth) else { return nil }
            index += 1
            if let nested = group.entry.groups[tag] {
                guard let nestedCount = countEntries(of: nested, at: &index, fields, storage, depth: depth + 1),
                    FIXFormat.integer(storage[field.range]) == nestedCount
                else { return nil }
            }
        }
        finishEntry(&self, upTo: index)
        return valid ? count : nil
    }
}
