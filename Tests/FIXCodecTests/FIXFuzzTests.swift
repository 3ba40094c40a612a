import FIXCodec
import Testing

/// A seeded mutator pushing a million mutated messages through framing, parsing and validation: none
/// may crash or hang, and every mutation that is invalid by construction must be refused with a reason.
@Suite struct FIXFuzzTests {
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let header = "34=2|49=TW42|52=20261203-12:00:00.000|56=ISLD|"
    static let corpus: [String] = [
        "35=D|\(header)11=ID|21=1|38=100|40=2|44=10.5|54=1|55=INTC|59=0|60=20261203-12:00:00|386=2|336=A|336=B|",
        "35=8|\(header)6=0|11=ID|14=0|17=E1|20=0|37=O1|39=0|54=1|55=INTC|150=0|151=100|",
        "35=A|\(header)98=0|108=30|",
        "35=2|\(header)7=1|16=0|",
        "35=4|\(header)36=5|123=Y|",
        "35=d|\(header)320=R|322=S|323=1|55=TBS|146=1|311=IBM|393=1|",
    ]

    /// What a structured mutation does, and the fault it must be refused for.
    enum Breakage: CaseIterable {
        case dropRequired, duplicateBodyField, unknownTag, badEnum, notANumber, emptyValue, wrongGroupCount, badChecksum

        var expected: FIXSessionRejectReason? {
            switch self {
            case .dropRequired: .requiredTagMissing
            case .duplicateBodyField: .tagAppearsMoreThanOnce
            case .unknownTag: .invalidTagNumber
            case .badEnum: .valueIsIncorrect
            case .notANumber: .incorrectDataFormat
            case .emptyValue: .tagSpecifiedWithoutValue
            case .wrongGroupCount: .incorrectNumInGroupCount
            case .badChecksum: nil
            }
        }
    }

    static func fields(_ text: String) -> [(Int, [UInt8])] {
        text.split(separator: "|").map { field in
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (Int(parts[0])!, Array(parts[1].utf8))
        }
    }

    static func encode(_ fields: [(Int, [UInt8])], encoder: inout FIXEncoder) -> [UInt8] {
        var message = FIXMessage()
        for (tag, value) in fields { message.append(tag, value) }
        return encoder.encode(message)
    }

    @Test func survivesAMillionMutatedMessagesAndRefusesEveryBrokenOne() {
        var random = SplitMix64(state: 20_261_203)
        var encoder = FIXEncoder(beginString: "FIX.4.2")
        var validator = FIXValidator(dictionary: Fixtures.fix42)
        let parsedCorpus = Self.corpus.map(Self.fields)
        var framer = FIXFramer()
        var refused = 0
        var accepted = 0
        var structured = 0
        let total = 1_000_000
        for iteration in 0..<total {
            var fields = parsedCorpus[Int(random.next() % UInt64(parsedCorpus.count))]
            var bytes: [UInt8]
            var breakage: Breakage?
            if iteration % 2 == 0 {
                // Byte-level: flip, insert, delete, truncate or splice SOH anywhere in a whole message.
                bytes = Self.encode(fields, encoder: &encoder)
                for _ in 0..<(1 + Int(random.next() % 3)) {
                    let position = Int(random.next() % UInt64(bytes.count))
                    switch random.next() % 5 {
                    case 0: bytes[position] ^= UInt8(truncatingIfNeeded: random.next() | 1)
                    case 1: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                    case 2: bytes.remove(at: position)
                    case 3: bytes.removeSubrange(position...)
                    default: bytes.insert(1, at: position)
                    }
                    if bytes.isEmpty { bytes = [1] }
                }
            } else {
                let chosen = Breakage.allCases[Int(random.next() % UInt64(Breakage.allCases.count))]
                guard Self.breakFields(&fields, chosen, &random) else { continue }
                breakage = chosen
                structured += 1
                bytes = Self.encode(fields, encoder: &encoder)
                if chosen == .badChecksum { bytes[bytes.count - 2] = bytes[bytes.count - 2] == 0x30 ? 0x31 : 0x30 }
            }
            framer.append(bytes)
            var sawMessage = false
            while let frame = framer.next() {
                guard case .message(let range) = frame else { continue }
                sawMessage = true
                do {
                    let message = try FIXMessage(parsing: framer.buffer[range], dictionary: Fixtures.fix42)
                    let rejection = validator.validate(message)
                    if (rejection == nil) != (validator.validateInOrder(message) == nil) {
                        Issue.record("the fast and the ordered validation disagree on \(message.debugText)")
                    }
                    if let rejection {
                        refused += 1
                        if let expected = breakage?.expected, rejection.reason != expected {
                            Issue.record(
                                "\(breakage!) refused for \(rejection), expected \(expected): \(message.debugText)")
                        }
                    } else {
                        accepted += 1
                        if breakage != nil { Issue.record("\(breakage!) accepted: \(message.debugText)") }
                    }
                } catch {
                    refused += 1
                    #expect(!error.reason.isEmpty)
                    if let breakage, breakage != .badChecksum { Issue.record("\(breakage) did not parse: \(error)") }
                }
            }
            if breakage != nil, !sawMessage { Issue.record("\(breakage!) was not framed") }
            // A mutated stream may leave a partial frame; start the next message on a clean framer.
            if framer.bufferedCount > 0 { framer = FIXFramer() }
        }
        print("fuzz: \(total) messages, \(structured) broken by construction, \(refused) refused, \(accepted) accepted")
        #expect(structured > total / 3)
        #expect(refused > structured)
    }

    /// Applies `breakage` to `fields` when the message has what it needs; false when it does not.
    static func breakFields(_ fields: inout [(Int, [UInt8])], _ breakage: Breakage, _ random: inout SplitMix64) -> Bool
    {
        let msgType = String(decoding: fields[0].1, as: UTF8.self)
        let body = fields.indices.filter { ![35, 34, 49, 52, 56].contains(fields[$0].0) }
        switch breakage {
        case .dropRequired:
            let required = Fixtures.fix42.messages[msgType]?.required ?? []
            guard let index = body.first(where: { required.contains(fields[$0].0) }) else { return false }
            fields.remove(at: index)
        case .duplicateBodyField:
            guard let index = body.first(where: { Fixtures.fix42.messages[msgType]?.groups[fields[$0].0] == nil }),
                Fixtures.fix42.messages[msgType]?.groups.values.contains(where: { $0.entry.allows(fields[index].0) })
                    == false
            else { return false }
            fields.append(fields[index])
        case .unknownTag:
            fields.append((9000 + Int(random.next() % 900), Array("x".utf8)))
        case .badEnum:
            // A value of the right format that the enum does not list, so the enum check is what refuses it.
            guard
                let index = body.first(where: {
                    let field = Fixtures.fix42.field(fields[$0].0)
                    return field?.values != nil && field?.type != .boolean
                }), let type = Fixtures.fix42.field(fields[index].0)?.type
            else { return false }
            fields[index].1 = Array((type == .integer ? "987" : type == .character ? "~" : "~~").utf8)
        case .notANumber:
            guard let index = body.first(where: { Fixtures.fix42.field(fields[$0].0)?.type == .decimal }) else {
                return false
            }
            fields[index].1 = Array("1.2.3".utf8)
        case .emptyValue:
            guard let index = body.randomElement(using: &random) else { return false }
            fields[index].1 = []
        case .wrongGroupCount:
            guard
                let index = body.first(where: {
                    Fixtures.fix42.messages[msgType]?.groups[fields[$0].0] != nil && fields[$0].1 != Array("0".utf8)
                })
            else { return false }
            fields[index].1 = Array("7".utf8)
        case .badChecksum:
            break
        }
        return true
    }
}
