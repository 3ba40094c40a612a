import ControlProtocol
import Foundation
import GatewayCore
import Testing

/// The hand reader of plain submit lines against `JSONDecoder`: whatever it reads, it reads the same;
/// whatever is plain and `JSONDecoder` reads, it reads too; anything else it leaves to `JSONDecoder`.
@Suite struct PlainSubmitTests {
    static func decoded(_ line: String) -> Decoded<SubmitRequest>? {
        guard let decoded = try? JSONDecoder().decode(Decoded<SubmitRequest>.self, from: Data(line.utf8)),
            decoded.envelope.op == "submit"
        else { return nil }
        return decoded
    }

    @Test func readsTheBenchmarksLineAsJSONDecoderDoes() throws {
        let line =
            #"{"id":7,"op":"submit","account":"paper","symbol":"BENCH","side":"buy","qty":"1","type":"market","client_order_id":"b-1-7"}"#
        let plain = try #require(PlainSubmit(Data(line.utf8)))
        let decoded = try #require(Self.decoded(line))
        #expect(plain.id == .number(7))
        #expect(plain.id == decoded.envelope.id)
        #expect(plain.request == decoded.request)
        #expect(plain.request.clientOrderID?.rawValue == "b-1-7")
    }

    @Test(arguments: [
        // Another verb, or none.
        #"{"id":1,"op":"cancel","account":"paper","symbol":"A","side":"buy","qty":"1"}"#,
        #"{"id":1,"account":"paper","symbol":"A","side":"buy","qty":"1"}"#,
        // What it does not read: legs, linked exits, unknown keys, a key twice.
        #"{"op":"submit","account":"paper","legs":[{"symbol":"A","side":"buy"}],"qty":"1"}"#,
        #"{"op":"submit","account":"paper","symbol":"A","side":"buy","qty":"1","take_profit":{"limit_price":"2"}}"#,
        #"{"op":"submit","account":"paper","symbol":"A","side":"buy","qty":"1","note":"x"}"#,
        #"{"op":"submit","account":"paper","symbol":"A","side":"buy","qty":"1","qty":"2"}"#,
        // Escapes, bytes beyond ASCII, exponents, a signed or fractional id.
        #"{"op":"submit","account":"pa\u0070er","symbol":"A","side":"buy","qty":"1"}"#,
        #"{"op":"submit","account":"paper","symbol":"A","side":"buy","qty":"1","strategy":"café"}"#,
        #"{"op":"submit","account":"paper","symbol":"A","side":"buy","qty":1e2}"#,
        #"{"id":-1,"op":"submit","account":"paper","symbol":"A","side":"buy","qty":"1"}"#,
        #"{"id":1.5,"op":"submit","account":"paper","symbol":"A","side":"buy","qty":"1"}"#,
        // Values at fault: JSONDecoder names them.
        #"{"op":"submit","account":"paper","symbol":"A","side":"hold","qty":"1"}"#,
        #"{"op":"submit","account":"paper","symbol":"A","side":"buy","qty":"1.123456789"}"#,
        #"{"op":"submit","account":"paper","symbol":"A","side":"buy"}"#,
        // Not JSON, or more than one value.
        #"{"op":"submit","account":"paper","symbol":"A","side":"buy","qty":01}"#,
        #"{"op":"submit","account":"paper","symbol":"A","side":"buy","qty":"1"} {}"#,
        #"{"op":"submit","account":"paper","symbol":"A","side":"buy","qty":"1""#,
    ])
    func leavesEverythingElseToJSONDecoder(line: String) {
        #expect(PlainSubmit(Data(line.utf8)) == nil)
    }

    /// Thousands of generated lines, each field drawn from values plain and not, valid and not, in any
    /// order with any whitespace, some of them cut short or with something after.
    @Test func agreesWithJSONDecoderOnGeneratedLines() throws {
        try agreeWithJSONDecoder(
            verb: "submit", pools: GeneratedLine.pools, extras: GeneratedLine.extras, seed: 20_261_206,
            lines: 20_000, atLeast: 2_000, read: \.submit, as: SubmitRequest.self)
    }
}

/// Generated lines of `verb`, each field drawn from values plain and not, valid and not, in any order with
/// any whitespace, some of them cut short or with something after: what the hand reader reads,
/// `JSONDecoder` reads the same (envelope and request); what is plain and `JSONDecoder` reads, the hand
/// reader reads too; and more than `atLeast` lines were read by hand, and more still by `JSONDecoder`, so
/// that the comparison means something.
func agreeWithJSONDecoder<Request: Decodable & Equatable>(
    verb: String, pools: [GeneratedLine.Pool], extras: [String], seed: UInt64, lines: Int, atLeast: Int,
    read: KeyPath<PlainRequest, Request?>, as _: Request.Type
) throws {
    var random = LineRandom(seed: seed)
    var plainRead = 0
    var decodedCount = 0
    for _ in 0..<lines {
        let generated = GeneratedLine.make(&random, pools: pools, extras: extras)
        // A line of another verb (its `op` drawn from the others) is that verb's test's.
        let plain = PlainLine(Data(generated.text.utf8)).flatMap { $0.request.op == verb ? $0 : nil }
        let decoded = (try? JSONDecoder().decode(Decoded<Request>.self, from: Data(generated.text.utf8)))
            .flatMap { $0.envelope.op == verb ? $0 : nil }
        if decoded != nil { decodedCount += 1 }
        if let plain {
            plainRead += 1
            let decoded = try #require(decoded, "read by hand but not by JSONDecoder: \(generated.text)")
            #expect(plain.id == decoded.envelope.id, "\(generated.text)")
            #expect(plain.id.map { "\($0)" } == decoded.envelope.id.map { "\($0)" }, "\(generated.text)")
            #expect(plain.request[keyPath: read] == decoded.request, "\(generated.text)")
        } else if generated.plain, decoded != nil {
            Issue.record("plain and read by JSONDecoder, but not by hand: \(generated.text)")
        }
    }
    #expect(plainRead > atLeast)
    #expect(decodedCount > plainRead)
}

/// A line as `RequestHandler` reads it the usual way: the envelope, then the request, from one object.
struct Decoded<Request: Decodable>: Decodable {
    let envelope: RequestEnvelope
    let request: Request

    init(from decoder: any Decoder) throws {
        envelope = try RequestEnvelope(from: decoder)
        request = try Request(from: decoder)
    }
}

/// A small, seeded generator, so a failure names a line that comes back every run.
struct LineRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func below(_ bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(bound))
    }

    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// One generated submit line, and whether everything in it is plain (`PlainSubmit` must read it when
/// `JSONDecoder` does).
struct GeneratedLine {
    let text: String
    let plain: Bool

    /// A field's values: those usually drawn (plain, valid or not), and the rest (`~` marks one that is
    /// not plain).
    struct Pool {
        let key: String
        let required: Bool
        let usual: [String]
        let other: [String]
    }

    static let pools: [Pool] = [
        Pool(
            key: "id", required: false, usual: ["1", "42", #""abc""#, #""r-1""#, "0"],
            other: [
                "null", "123456789012345678", "~1.5", "~-2", #"~"\u0041""#, "~1e3", "~true", "~1234567890123456789012",
            ]
        ),
        Pool(key: "op", required: true, usual: [#""submit""#], other: [#""cancel""#, "null", #"~"sub\u006dit""#]),
        Pool(
            key: "account", required: true, usual: [#""paper""#, #""acct_2-b""#],
            other: [#""""#, #""has space""#, "\"\(String(repeating: "a", count: 33))\"", "5", "null", #"~"pa\"per""#]),
        Pool(
            key: "client_order_id", required: false, usual: [#""c-1""#, #""a.b:c_d""#],
            other: [
                #""""#, #""bad id""#, "null", "7", "\"\(String(repeating: "x", count: 48))\"",
                "\"\(String(repeating: "x", count: 49))\"",
            ]),
        Pool(
            key: "symbol", required: true, usual: [#""AAPL""#, #""brk.b""#, #""AAPL  261218C00200000""#],
            other: [
                #"" MSFT ""#, #""AAPL261218C00200000""#, #""1ABC""#, #""""#, "null", #"~"ÅAPL""#, #"~"AA\/PL""#,
            ]),
        Pool(
            key: "side", required: true, usual: [#""buy""#, #""sell""#],
            other: OrderSide.allCases.map { "\"\($0.rawValue)\"" } + [#""BUY""#, #""hold""#, "null", "1"]),
        Pool(
            key: "qty", required: true, usual: [#""1""#, #""0.5""#, "10", "10.50", "0.1"],
            other: [
                #""1.000000000""#, #""1.123456789""#, "-3", #""abc""#, "null", "0", #""-0""#, "-0", "~1e2", "~01",
                "~1.", "~.5", #""1e2""#, "99999999999", "~123456789012345678901234567890123", "~true",
            ]),
        Pool(
            key: "type", required: false, usual: [#""market""#, #""limit""#],
            other: OrderType.allCases.map { "\"\($0.rawValue)\"" } + [#""MARKET""#, "null", "3"]),
        Pool(
            key: "limit_price", required: false, usual: [#""190.25""#, "190.25"],
            other: ["null", #""x""#, "1.123456789", "0.00000001", "-1.5", #""1.5.5""#]),
        Pool(key: "stop_price", required: false, usual: [#""180""#], other: ["180.5", "null", "~1E1"]),
        Pool(key: "trail_price", required: false, usual: [#""2.5""#], other: ["3", "null"]),
        Pool(key: "trail_percent", required: false, usual: [#""1.5""#], other: ["0.25", "null", #""""#]),
        Pool(
            key: "tif", required: false, usual: [#""day""#, #""gtc""#],
            other: TimeInForce.allCases.map { "\"\($0.rawValue)\"" } + [#""GTC""#, "null"]),
        Pool(
            key: "strategy", required: false, usual: [#""trend""#, #""a b/c""#],
            other: [#""""#, "null", #"~"caf\u00e9""#, "~\"café\"", "5"]),
        Pool(
            key: "tags", required: false, usual: ["[]", #"["a","b"]"#, #"[ "x" ]"#],
            other: ["null", #"~["a\nb"]"#, "[1]", #""a""#, #"~[["a"]]"#, "[", #"~["a",]"#]),
        Pool(
            key: "order_class", required: false, usual: [#""oto""#],
            other: OrderClass.allCases.map { "\"\($0.rawValue)\"" } + [#""BRACKET""#, "null"]),
        Pool(key: "extended_hours", required: false, usual: ["true", "false"], other: ["null", "1", #""true""#]),
    ]

    static let extras = [
        #""legs":[{"symbol":"AAPL","side":"buy"}]"#, #""take_profit":{"limit_price":"1"}"#,
        #""stop_loss":{"stop_price":"1"}"#, #""foo":1"#, #""side":"buy""#, #""qty":"1""#,
    ]

    static let spaces = ["", "", "", " ", "\t", "  ", "\r"]

    static func make(
        _ random: inout LineRandom, pools: [Pool] = GeneratedLine.pools, extras: [String] = GeneratedLine.extras
    ) -> GeneratedLine {
        var plain = true
        var members: [String] = []
        func space() -> String { spaces[random.below(spaces.count)] }
        for pool in pools {
            guard random.chance(pool.required ? 95 : 35) else { continue }
            var value =
                random.chance(80)
                ? pool.usual[random.below(pool.usual.count)] : pool.other[random.below(pool.other.count)]
            if value.hasPrefix("~") {
                plain = false
                value.removeFirst()
            }
            members.append("\"\(pool.key)\"\(space()):\(space())\(value)")
        }
        if random.chance(8) {
            plain = false
            members.append(extras[random.below(extras.count)])
        }
        // Shuffle, with the seeded generator.
        for index in stride(from: members.count - 1, to: 0, by: -1) {
            members.swapAt(index, random.below(index + 1))
        }
        var text =
            space() + "{" + space() + members.joined(separator: space() + "," + space()) + space() + "}" + space()
        if random.chance(4) {
            plain = false
            text = String(text.prefix(random.below(text.count)))
        } else if random.chance(3) {
            plain = false
            text += ["x", "{}", ",", "]"][random.below(4)]
        }
        return GeneratedLine(text: text, plain: plain)
    }
}
