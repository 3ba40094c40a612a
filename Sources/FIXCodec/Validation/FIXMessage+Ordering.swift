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
