import FIXCodec
import Testing

@Suite struct FIXValidatorTests {
    var validator = FIXValidator(dictionary: Fixtures.fix42)
    static let header = "49=TW42|52=20261203-12:00:00|56=ISLD|"

    private mutating func rejection(_ body: String) throws -> FIXRejection? {
        try validator.validate(FIXMessage(parsing: Fixtures.message(body), dictionary: Fixtures.fix42))
    }

    @Test mutating func acceptsAValidNewOrderSingleWithAGroup() throws {
        #expect(
            try rejection(
                "35=D|34=2|\(Self.header)11=ID|21=1|40=1|54=1|55=INTC|386=2|336=PRE-OPEN|336=AFTER|60=20261203-12:00:00|"
            ) == nil)
    }

    @Test(arguments: [
        ("35=D|34=2|\(header)11=ID|21=1|40=1|54=1|60=20261203-12:00:00|", FIXRejection(.requiredTagMissing, tag: 55)),
        (
            "35=D|34=2|\(header)11=ID|21=1|40=1|54=1|55=X|60=20261203-12:00:00|5000=1|",
            FIXRejection(.invalidTagNumber, tag: 5000)
        ),
        (
            "35=D|34=2|\(header)11=ID|21=1|40=1|54=1|55=X|60=20261203-12:00:00|58=|",
            FIXRejection(.tagSpecifiedWithoutValue, tag: 58)
        ),
        (
            "35=D|34=2|\(header)11=ID|21=1|40=1|54=Z|55=X|60=20261203-12:00:00|",
            FIXRejection(.valueIsIncorrect, tag: 54)
        ),
        (
            "35=D|34=2|\(header)11=ID|21=1|38=abc|40=1|54=1|55=X|60=20261203-12:00:00|",
            FIXRejection(.incorrectDataFormat, tag: 38)
        ),
        (
            "35=D|34=2|\(header)11=ID|21=1|40=1|54=1|55=X|60=20261203-12:00:00|112=T|",
            FIXRejection(.tagNotDefinedForMessageType, tag: 112)
        ),
        (
            "35=D|34=2|\(header)11=ID|21=1|40=1|40=2|54=1|55=X|60=20261203-12:00:00|",
            FIXRejection(.tagAppearsMoreThanOnce, tag: 40)
        ),
        (
            "35=D|34=2|\(header)11=ID|21=1|40=1|54=1|55=X|386=3|336=A|336=B|60=20261203-12:00:00|",
            FIXRejection(.incorrectNumInGroupCount, tag: 386)
        ),
        (
            "35=D|11=ID|34=2|\(header)21=1|40=1|54=1|55=X|60=20261203-12:00:00|",
            FIXRejection(.tagSpecifiedOutOfRequiredOrder, tag: 34)
        ),
        ("35=ZZ|34=2|\(header)", FIXRejection(.invalidMsgType)),
    ])
    mutating func rejectsEachFaultWithItsReasonAndTag(body: String, expected: FIXRejection) throws {
        #expect(try rejection(body) == expected)
    }
}
