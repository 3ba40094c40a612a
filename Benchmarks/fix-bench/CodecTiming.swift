import ArgumentParser
import FIXCodec
import Foundation
import MallocInterposerSwift

/// Times parse + validate and encode of one message, and counts the heap allocations of each loop.
struct CodecTiming {
    var parseValidate: Double
    var encode: Double
    var parseValidateAllocations: Double
    var encodeAllocations: Double

    static func measure(_ bytes: [UInt8], dictionary: FIXDictionary, iterations: Int) throws -> CodecTiming {
        var validator = FIXValidator(dictionary: dictionary)
        let parsed = try FIXMessage(parsing: bytes, dictionary: dictionary)
        if let rejection = validator.validate(parsed) { throw ValidationError("sample refused: \(rejection)") }
        var sink = 0
        let (parseTime, parseAllocations) = Allocations.count(iterations) {
            var message = FIXMessage()
            for _ in 0..<iterations {
                guard (try? message.reparse(bytes, dictionary: dictionary)) != nil else { continue }
                if validator.validate(message) == nil { sink &+= message.fields.count }
            }
        }
        var encoder = FIXEncoder(beginString: "FIX.4.4")
        let (encodeTime, encodeAllocations) = Allocations.count(iterations) {
            for _ in 0..<iterations { sink &+= encoder.withEncoded(parsed) { $0.count } }
        }
        if sink == Int.min { print(sink) }
        return CodecTiming(
            parseValidate: parseTime, encode: encodeTime, parseValidateAllocations: parseAllocations,
            encodeAllocations: encodeAllocations)
    }
}

/// Wall time per iteration and heap allocations per iteration of a loop.
enum Allocations {
    static func count(_ iterations: Int, _ body: () -> Void) -> (nanoseconds: Double, allocations: Double) {
        body()  // warm up
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.hook()
        let start = ContinuousClock.now
        body()
        let elapsed = ContinuousClock.now - start
        MallocInterposerSwift.unhook()
        let allocations = MallocInterposerSwift.getStatistics().mallocCount
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        return (nanoseconds / Double(iterations), Double(allocations) / Double(iterations))
    }
}
