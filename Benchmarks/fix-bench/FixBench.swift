import ArgumentParser
import BenchSupport
import FIXCodec
import FIXSession
import FIXTransport
import Foundation
import Logging
import MallocInterposerSwift
import Synchronization

/// Measures the FIX engine: parse + validate and encode of a NewOrderSingle and an ExecutionReport
/// (FIX.4.4), beside QuickFIX's C++ parse, validate and serialize of the same bytes in the same run
/// (Benchmarks/quickfix-harness, built at benchmark time), heap allocations per message, and session
/// throughput over loopback in both directions.
@main
struct FixBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fix-bench", abstract: "Benchmarks the FIX codec against QuickFIX, and session throughput.")

    @Option(help: "Codec iterations per message and run.") var iterations = 200_000
    @Option(help: "Messages each way over loopback.") var messages = 200_000
    @Option(help: "Runs; medians are reported.") var runs = 3
    @Option(help: "The QuickFIX harness (default: build it with Benchmarks/quickfix-harness/build).")
    var quickfixHarness: String?
    @Flag(help: "Skip QuickFIX (no ratios).") var noQuickfix = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        try InterposerPreload.reexecIfNeeded()
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let dictionaryPath = root.appendingPathComponent("config/fix/FIX44.xml").path
        let dictionary = try FIXDictionary.load(path: dictionaryPath)
        let samples = Samples.make()
        var results: [String: [Double]] = [:]
        for _ in 0..<runs {
            for (name, bytes) in samples {
                let codec = try CodecTiming.measure(bytes, dictionary: dictionary, iterations: iterations)
                results["\(name).parse_validate_ns", default: []].append(codec.parseValidate)
                results["\(name).encode_ns", default: []].append(codec.encode)
                results["\(name).parse_validate_allocs", default: []].append(codec.parseValidateAllocations)
                results["\(name).encode_allocs", default: []].append(codec.encodeAllocations)
            }
            if !noQuickfix {
                let harness = try quickfixHarness ?? Self.buildHarness(root: root)
                let quickfix = try Self.runHarness(
                    harness, dictionary: dictionaryPath, samples: samples, iterations: iterations)
                for (name, figures) in quickfix {
                    results["\(name).quickfix_parse_validate_ns", default: []].append(figures.parseValidate)
                    results["\(name).quickfix_serialize_ns", default: []].append(figures.serialize)
                    // Ratios within one run, so that a slow spell of the machine hits both engines alike.
                    let ours = results["\(name).parse_validate_ns"]!.last!
                    let encode = results["\(name).encode_ns"]!.last!
                    results["\(name).parse_validate_ratio", default: []].append(ours / figures.parseValidate)
                    results["\(name).encode_ratio", default: []].append(encode / figures.serialize)
                }
            }
            let throughput = try await LoopbackThroughput.measure(messages: messages, dictionary: dictionary)
            results["loopback.initiator_to_acceptor_msgs_per_s", default: []].append(throughput.inbound)
            results["loopback.acceptor_to_initiator_msgs_per_s", default: []].append(throughput.outbound)
            results["loopback.allocations_per_message", default: []].append(throughput.allocationsPerMessage)
        }
        let medians = results.mapValues { values in values.sorted()[values.count / 2] }
        report(medians)
    }

    private func report(_ medians: [String: Double]) {
        if json {
            let body = medians.keys.sorted().map {
                "\"\($0)\": \(String(format: $0.hasSuffix("ratio") ? "%.3f" : "%.1f", medians[$0]!))"
            }
            print(
                "{\"runs\": \(runs), \"iterations\": \(iterations), \"messages\": \(messages), "
                    + body.joined(separator: ", ") + "}")

            return
        }
        print(
            "fix-bench: medians of \(runs) runs (ratios: median of each run's ratio), \(iterations) iterations per message, FIX.4.4"
        )
        for name in ["new_order_single", "execution_report"] {
            let parse = medians["\(name).parse_validate_ns"] ?? 0
            let encode = medians["\(name).encode_ns"] ?? 0
            print("  \(name):")
            var line = "    parse+validate \(String(format: "%.0f", parse)) ns"
            if let theirs = medians["\(name).quickfix_parse_validate_ns"] {
                line +=
                    "  (QuickFIX \(String(format: "%.0f", theirs)) ns, ratio \(String(format: "%.2f", parse / theirs)))"
            }
            print(line + ", \(String(format: "%.1f", medians["\(name).parse_validate_allocs"] ?? 0)) allocations/msg")
            line = "    encode         \(String(format: "%.0f", encode)) ns"
            if let theirs = medians["\(name).quickfix_serialize_ns"] {
                line +=
                    "  (QuickFIX serialize \(String(format: "%.0f", theirs)) ns, ratio \(String(format: "%.2f", encode / theirs)))"
            }
            print(line + ", \(String(format: "%.1f", medians["\(name).encode_allocs"] ?? 0)) allocations/msg")
        }
        print(
            "  loopback session, \(messages) messages each way: initiator→acceptor "
                + "\(Int(medians["loopback.initiator_to_acceptor_msgs_per_s"] ?? 0)) msg/s, acceptor→initiator "
                + "\(Int(medians["loopback.acceptor_to_initiator_msgs_per_s"] ?? 0)) msg/s, "
                + "\(String(format: "%.1f", medians["loopback.allocations_per_message"] ?? 0)) allocations per order (both sessions)"
        )
    }

    static func buildHarness(root: URL) throws -> String {
        let output = try Self.run(["/bin/bash", root.appendingPathComponent("Benchmarks/quickfix-harness/build").path])
        return output.split(separator: "\n").last.map(String.init) ?? ""
    }

    static func runHarness(
        _ harness: String, dictionary: String, samples: [(String, [UInt8])], iterations: Int
    ) throws -> [String: (parseValidate: Double, serialize: Double)] {
        let file = NSTemporaryDirectory() + "fix-bench-messages-\(getpid()).txt"
        var text: [UInt8] = []
        for (_, bytes) in samples { text += bytes + [UInt8(ascii: "\n")] }
        try Data(text).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let output = try Self.run([harness, dictionary, file, String(iterations)])
        var figures: [String: (Double, Double)] = [:]
        for (line, (name, _)) in zip(output.split(separator: "\n"), samples) {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let parse = object["parse_validate_ns"] as? Double, let serialize = object["serialize_ns"] as? Double
            else { throw ValidationError("the QuickFIX harness said: \(line)") }
            figures[name] = (parse, serialize)
        }
        return figures
    }

    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = nil
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(arguments[0]) exited with \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The two messages timed, as wire bytes (FIX.4.4, body in tag order as QuickFIX writes it).
enum Samples {
    static func make() -> [(String, [UInt8])] {
        var encoder = FIXEncoder(beginString: "FIX.4.4")
        func message(_ msgType: String, _ body: [(Int, String)]) -> [UInt8] {
            var message = FIXMessage(msgType: msgType)
            for (tag, value) in [(34, "1842"), (49, "TW44"), (52, "20261203-13:05:17.123"), (56, "ISLD")] + body {
                message.append(tag, value)
            }
            return encoder.encode(message)
        }
        let order = message(
            "D",
            [
                (1, "ACCT-7"), (11, "ORD-20261203-000417"), (21, "1"), (38, "1500"), (40, "2"), (44, "187.25"),
                (54, "1"), (55, "AAPL"), (59, "0"), (60, "20261203-13:05:17.120"),
            ])
        let report = message(
            "8",
            [
                (1, "ACCT-7"), (6, "187.2412"), (11, "ORD-20261203-000417"), (14, "600"), (17, "EXEC-99812"),
                (31, "187.24"), (32, "600"), (37, "BRK-55121"), (38, "1500"), (39, "1"), (40, "2"), (44, "187.25"),
                (54, "1"), (55, "AAPL"), (59, "0"), (60, "20261203-13:05:17.188"), (150, "F"), (151, "900"),
            ])
        return [("new_order_single", order), ("execution_report", report)]
    }
}
