extension FIXMessage {
    /// The message in the order QuickFIX writes one: MsgType, then the other header fields by tag, then
    /// the body's fields by tag (a group count followed by its entries as received), without
    /// BeginString, BodyLength or the trailer, which the encoder and session write.
    public func canonicalized(_ structure: FIXValidator.Structure) -> FIXMessage {
        var order: [FIXField] = []
        order.reserveCapacity(fields.count)
        func flatten(_ node: FIXValidator.Structure.Node) {
            order.append(fields[node.field])
            for entry in node.entries { entry.forEach(flatten) }
        }
        let header = structure.header.filter {
            let tag = fields[$0.field].tag
            return tag != FIXTag.beginString && tag != FIXTag.bodyLength
        }
        let sortedHeader = header.sorted {
            let lhs = fields[$0.field].tag
            let rhs = fields[$1.field].tag
            if lhs == FIXTag.msgType || rhs == FIXTag.msgType { return lhs == FIXTag.msgType && rhs != FIXTag.msgType }
            return lhs < rhs
        }
        sortedHeader.forEach(flatten)
        structure.body.enumerated().sorted {
            let lhs = fields[$0.element.field].tag
            let rhs = fields[$1.element.field].tag
            return lhs != rhs ? lhs < rhs : $0.offset < $1.offset
        }.forEach { flatten($0.element) }
        var copy = self
        copy.replaceFields(order)
        return copy
    }
}

extension FIXMessage {
    /// Whether ``canonicalized(_:)`` would leave the message as it is: BeginString, BodyLength, MsgType,
    /// then header tags ascending, body tags ascending, the trailer last, and no repeating group (whose
    /// entries would need the structure). Checked without allocating.
    public func isInCanonicalOrder(dictionary: FIXDictionary) -> Bool {
        guard fields.count >= 3, fields[2].tag == FIXTag.msgType, let msgType = bytes(FIXTag.msgType) else {
            return false
        }
        guard let layout = dictionary.layout(forMsgType: msgType) else { return false }
        var part = 0
        var last = 0
        for field in fields.dropFirst(3) {
            let tag = field.tag
            let fieldPart = dictionary.isHeaderField(tag) ? 0 : dictionary.isTrailerField(tag) ? 2 : 1
            guard fieldPart >= part else { return false }
            if fieldPart != part {
                part = fieldPart
                last = 0
            }
            guard tag > last, layout.groups[tag] == nil else { return false }
            last = tag
        }
        return true
    }
}
