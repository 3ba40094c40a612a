import ArgumentParser
import Foundation
import HashTreeCollections

/// What a checkpoint's copy of the engine's state costs the order path afterwards: the checkpoint takes
/// the state by value (cheaply, copy-on-write) and encodes it on a thread of its own, so the engine's next
/// change to a shared collection pays for a copy of it. For the two collections that only grow — the
/// fills seen (`FillKeys`) and the idempotency index (`ClientIndex`) — this times that first change after
/// a copy, and a lookup, for the standard library's hash table against the hash trie (`TreeSet`,
/// `TreeDictionary`) the engine keeps them in; keys shaped like the engine's.
@main
struct StateCopyBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state-copy-bench",
        abstract: "Time the first change to a grown collection after a checkpoint's copy of it.")

    @Option(parsing: .upToNextOption, help: "Entries in the collection.") var sizes = [40_000, 1_000_000]
    @Option(help: "Copies per size; medians are printed.") var runs = 5
    @Option(help: "Lookups timed per run.") var lookups = 100_000

    func run() {
        print("size        kind             first change after a copy (median µs)   lookup (median ns)")
        for size in sizes {
            let fills = (0..<size).map { "paper/paper-fill-\(100_000_000 + $0)" }
            var set = Set(fills)
            var fillTrie = TreeSet(fills)
            report(
                size, "Set<String>",
                measure(&set, size: size) {
                    $0.insert("new-\($1)")
                } lookup: {
                    $0.contains(fills[$1])
                })
            report(
                size, "TreeSet<String>",
                measure(&fillTrie, size: size) {
                    $0.insert("new-\($1)")
                } lookup: {
                    $0.contains(fills[$1])
                })
            let ids = (0..<size).map { ("turtle-AAPL-\(100_000_000 + $0)", "0a1b2c3d-\($0)") }
            var table = Dictionary(ids, uniquingKeysWith: { $1 })
            var trie = TreeDictionary(ids, uniquingKeysWith: { $1 })
            report(
                size, "Dictionary",
                measure(&table, size: size) {
                    $0["new-\($1)"] = "x"
                } lookup: {
                    $0[ids[$1].0] != nil
                })
            report(
                size, "TreeDictionary",
                measure(&trie, size: size) {
                    $0["new-\($1)"] = "x"
                } lookup: {
                    $0[ids[$1].0] != nil
                })
        }
    }

    /// Medians over `runs` of: the first change after a copy is taken (the copy alive meanwhile, as the
    /// checkpoint's is while it is encoded), and one lookup of an entry held (of the first `size`).
    private func measure<C>(
        _ collection: inout C, size: Int, change: (inout C, Int) -> Void, lookup: (C, Int) -> Bool
    )
        -> (change: Double, lookup: Double)
    {
        var changes: [Double] = []
        var perLookup: [Double] = []
        for run in 0..<runs {
            let copy = collection
            let began = ContinuousClock.now
            change(&collection, run)
            changes.append(micros(ContinuousClock.now - began))
            withExtendedLifetime(copy) {}
            let start = ContinuousClock.now
            var found = 0
            for index in 0..<lookups where lookup(collection, index % size) { found += 1 }
            perLookup.append(micros(ContinuousClock.now - start) * 1000 / Double(max(1, lookups)))
        }
        return (median(changes), median(perLookup))
    }

    private func report(_ size: Int, _ kind: String, _ figures: (change: Double, lookup: Double)) {
        let sizeText = String(size).padding(toLength: 12, withPad: " ", startingAt: 0)
        let kindText = kind.padding(toLength: 17, withPad: " ", startingAt: 0)
        print(
            "\(sizeText)\(kindText)\(String(format: "%12.1f", figures.change))\(String(format: "%37.1f", figures.lookup))"
        )
    }

    private func micros(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
