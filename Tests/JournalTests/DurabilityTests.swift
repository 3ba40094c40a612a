import Foundation
import Journal
import Testing

@Suite struct DurabilityTests {
    @Test(arguments: [(EventJournal.Durability.durable, 2), (.fast, 1)])
    func eachDurabilitySetsItsSynchronousMode(durability: EventJournal.Durability, expected: Int) throws {
        let folder = NSTemporaryDirectory() + "durability-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journal = try EventJournal(path: folder + "/journal.sqlite", durability: durability)
        #expect(journal.durability == durability)
        #expect(try journal.synchronousSetting() == expected)
        try journal.close()
    }
}
