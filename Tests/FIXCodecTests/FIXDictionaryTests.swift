import FIXCodec
import Testing

@Suite struct FIXDictionaryTests {
    @Test func loadsQuickFIXDictionariesWithTheirMessagesFieldsAndGroups() throws {
        let fix42 = Fixtures.fix42
        #expect(fix42.beginString == "FIX.4.2")
        #expect(fix42.field(11)?.name == "ClOrdID")
        #expect(fix42.field(54)?.values?.contains("1") == true)
        #expect(fix42.field(38)?.type == .decimal)
        let order = try #require(fix42.messages["D"])
        #expect(order.required.contains(55))
        #expect(order.groups[386]?.delimiter == 336)
        #expect(fix42.isAdmin("A") && !fix42.isAdmin("D"))
        #expect(fix42.isHeaderField(49) && fix42.isTrailerField(10))

        let fix44 = Fixtures.fix44
        #expect(fix44.beginString == "FIX.4.4")
        let order44 = try #require(fix44.messages["D"])
        // ClOrdID is required in 4.4; Symbol is optional inside the required Instrument component.
        #expect(order44.required.contains(11) && !order44.required.contains(55) && order44.allows(55))
        #expect(fix44.header.groups[627] != nil)
    }

    @Test func refusesMalformedDictionariesNamingTheLine() {
        #expect(throws: FIXDictionaryError.self) {
            try FIXDictionary(xml: "<fix major='4' minor='2'>\n<header>\n</fix>")
        }
        do {
            _ = try FIXDictionary(
                xml: "<fix major='4' minor='2'>\n<header>\n<field name='Nope' required='Y'/>\n</header></fix>")
            Issue.record("loaded a dictionary naming an unknown field")
        } catch {
            #expect(error.line == 3)
            #expect(error.problem.contains("Nope"))
        }
    }
}
