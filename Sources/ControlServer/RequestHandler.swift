public import ControlProtocol
public import Execution
public import GatewayCore
public import Foundation
public import NIOCore
import Metrics

/// Turns one request line into its answer by calling the engine. Holds no state of its own, so every
/// connection shares one.
public struct RequestHandler: Sendable {
    /// What a request produced: an answer line, and for `subscribe` the events to stream after it.
    public enum Outcome: Sendable {
        case answer(String)
        /// An answer written as it was made, in parts to be written in order (the last ends with the line's
        /// newline), and the file some of them are read from, to close once they are (`AnswerList`).
        case answerLine([IOData], SpillFile?)
        /// Events from the journal after a sequence number, then live ones.
        case subscribe(String, AsyncStream<PublishedEvent>)
        /// Live events only, of these kinds (all when `nil`): the connection takes them on the engine's
        /// thread as each batch commits (`ExecutionEngine.subscribeLive`).
        case subscribeLive(String, kinds: Set<String>?)
    }

    let engine: ExecutionEngine
    let clock: any WallClock
    let startedAt: Timestamp
    let version: String
    let alerts: (any AlertTesting)?
    let reloader: (any ConfigReloading)?
    /// Where a long answer spills to a file of its own (`AnswerList`); `nil` keeps it in memory.
    let spillDirectory: String?
    let writer = AnswerWriter()
    /// One decoder for every request (it is configured once and thread-safe): making one a request cost
    /// an allocation and its options' setup on the order path, most of whose lines it never reads.
    let decoder = JSONDecoder()

    public init(
        engine: ExecutionEngine, clock: any WallClock, version: String, alerts: (any AlertTesting)? = nil,
        reloader: (any ConfigReloading)? = nil, spillDirectory: String? = nil
    ) {
        self.spillDirectory = spillDirectory
        self.alerts = alerts
        self.reloader = reloader
        self.engine = engine
        self.clock = clock
        self.startedAt = clock.now()
        self.version = version
    }

    /// Answers one line. Bad input becomes an error answer; nothing here throws. A verb outside the
    /// caller's role is answered `unauthorized` and journaled (`access_denied`).
    public func handle(_ line: Data, from caller: Caller = .local) async -> Outcome {
        await withCheckedContinuation { continuation in
            handle(line, from: caller) { continuation.resume(returning: $0) }
        }
    }

    /// Answers one line through `answer`, called exactly once. The order path's verbs (`submit`,
    /// `signal`, `cancel`, `replace`, `cancel_all`, `quote`), `status` and `hello` are decoded on the
    /// calling thread and handed to the engine with `answer` as its callback, so no task runs between the
    /// socket and the engine (`status` is how a monitor sees the daemon alive; through a task it waited
    /// for a thread of Swift's pool on the way in and again on the way out); every other verb runs in a
    /// task of its own (they read the journal or wait on other services). `answer` may be called on the
    /// engine's executor or on another thread.
    public func handle(_ line: Data, from caller: Caller, answer: @escaping @Sendable (Outcome) -> Void) {
        let envelope: RequestEnvelope
        // The order path's verbs are read in one pass, envelope and request together: by hand when plain
        // (`PlainLine`); else a submit by `JSONDecoder` in one pass. Anything those do not take (another
        // verb, a field at fault) is read the usual way, which names its problem.
        let plain = PlainLine(line)
        let submit = plain == nil && Self.mentionsSubmit(line) ? Self.readSubmit(line, decoder) : nil
        do {
            if let plain {
                envelope = RequestEnvelope(id: plain.id, op: plain.request.op)
            } else if let submit, submit.envelope.op == "submit" {
                envelope = submit.envelope
            } else {
                envelope = try decoder.decode(RequestEnvelope.self, from: line)
            }
        } catch {
            let valid = (try? JSONSerialization.jsonObject(with: line, options: [.fragmentsAllowed])) != nil
            let message = valid ? "a request is a JSON object with 'id' (string or number) and 'op'" : "malformed JSON"
            return answer(.answer(writer.failure(id: .null, code: "bad_request", message: message)))
        }
        let id = envelope.id ?? .null
        guard let op = envelope.op else {
            return answer(
                .answer(
                    writer.failure(id: id, code: "bad_request", message: "missing field 'op'", details: .field("op"))))
        }
        if let required = Role.required(for: op), !(caller.role.map { $0 >= required } ?? false) {
            Task { answer(.answer(await deny(op, id: id, caller: caller, required: required))) }
            return
        }
        var timed = answer
        if let timer = RequestTimers.byOp[op] {
            let began = ContinuousClock.now
            timed = { outcome in
                timer.record(duration: ContinuousClock.now - began)
                answer(outcome)
            }
        }
        do {
            if try dispatchNow(
                op, id: id, line: line, decoder: decoder, caller: caller,
                read: plain?.request ?? submit.map { .submit($0.request) }, answer: timed)
            {
                return
            }
        } catch {
            return timed(.answer(problemAnswer(id, error)))
        }
        Task { [timed] in
            do {
                timed(try await dispatch(op, id: id, line: line, decoder: decoder, caller: caller))
            } catch {
                timed(.answer(problemAnswer(id, error)))
            }
        }
    }

    /// Whether the line holds `"submit"` (quoted), so that reading it as a submit in one pass may work.
    static func mentionsSubmit(_ line: Data) -> Bool {
        line.withUnsafeBytes { ByteSearch.end(of: submitPattern, in: $0) != nil }
    }

    private static let submitPattern = Array("\"submit\"".utf8)

    /// A line that mentions `"submit"` and is not plain, read as one by `decoder`.
    static func readSubmit(_ line: Data, _ decoder: JSONDecoder) -> SubmitLine? {
        try? decoder.decode(SubmitLine.self, from: line)
    }

    /// The answer to a request that could not be handled: a bad request names its problem.
    private func problemAnswer(_ id: RequestID, _ error: any Error) -> String {
        switch error {
        case let error as DecodingError:
            let problem = RequestProblem(error)
            return writer.failure(
                id: id, code: "bad_request", message: problem.message, details: problem.field.map { .field($0) })
        case let problem as RequestProblem:
            return writer.failure(
                id: id, code: "bad_request", message: problem.message, details: problem.field.map { .field($0) })
        default:
            return writer.failure(id: id, code: "internal", message: "\(error)")
        }
    }

    /// Journals the refusal, then answers it; the answer names the user, its role and the role needed.
    private func deny(_ op: String, id: RequestID, caller: Caller, required: Role) async -> String {
        let user = caller.peer?.userName ?? "an unidentified peer"
        let role = caller.role?.rawValue ?? "none"
        let note = AccessDeniedNote(
            op: op, uid: caller.peer?.uid, gid: caller.peer?.gid, pid: caller.peer?.pid, user: user, role: role,
            required: required.rawValue)
        let journaled: String
        switch await engine.journalAccessDenied(note) {
        case .success(let seq): journaled = " (journaled as event \(seq))"
        case .failure: journaled = ""
        }
        let has = caller.role.map { "has role \($0.rawValue)" } ?? "has no role"
        return writer.failure(
            id: id, code: "unauthorized",
            message: "'\(op)' needs role \(required.rawValue); \(user) \(has)\(journaled)",
            details: .access(role: caller.role, required: required))
    }

    /// The verbs answered without a task (see `handle`); false for any other verb.
    private func dispatchNow(
        _ op: String, id: RequestID, line: Data, decoder: JSONDecoder, caller: Caller, read: PlainRequest?,
        answer: @escaping @Sendable (Outcome) -> Void
    ) throws -> Bool {
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decode(type, from: line) }
        let writer = self.writer
        @Sendable func respond<T: Encodable & Sendable>(_ result: Result<T, EngineError>) {
            switch result {
            case .success(let body): answer(.answer(writer.success(id: id, body: body)))
            case .failure(let error): answer(.answer(Self.failure(writer, id, error)))
            }
        }
        switch op {
        case "hello":
            let hello = try read?.hello ?? decode(HelloRequest.self)
            if let version = hello.protocol, version != protocolVersion {
                throw RequestProblem(
                    field: "protocol",
                    message: "protocol \(version) is not spoken here; this gateway speaks \(protocolVersion)")
            }
            respond(
                .success(
                    HelloAnswer(server: "gatewayd", version: version, accounts: engine.accountIDs, role: caller.role)))
        case "submit":
            let request = try read?.submit ?? decode(SubmitRequest.self)
            let symbol: Symbol
            let side: OrderSide
            var legs: [OrderLeg]?
            if let requested = request.legs {
                guard request.symbol == nil, request.side == nil else {
                    throw RequestProblem(
                        field: "legs", message: "a multi-leg order gives legs instead of symbol and side, not both")
                }
                legs = requested.map { OrderLeg(symbol: $0.symbol, side: $0.side, ratio: $0.ratio ?? 1) }
                // The engine checks the legs and names the underlying; these stand in until it does.
                guard let first = requested.first else {
                    throw RequestProblem(field: "legs", message: "a multi-leg order needs 2 to 4 legs")
                }
                symbol = first.symbol
                side = first.side
            } else {
                // Both present: the decoder requires them when there are no legs.
                symbol = request.symbol!
                side = request.side!
            }
            var order = SubmitOrder(
                account: request.account, clientOrderID: request.clientOrderID, symbol: symbol, side: side,
                qty: request.qty, type: request.type, limitPrice: request.limitPrice, stopPrice: request.stopPrice,
                trailPrice: request.trailPrice, trailPercent: request.trailPercent, tif: request.tif ?? .day,
                strategy: request.strategy, tags: request.tags, legs: legs, orderClass: request.orderClass,
                takeProfit: request.takeProfit?.limitPrice,
                stopLoss: request.stopLoss.map { .init(stopPrice: $0.stopPrice, limitPrice: $0.limitPrice) })
            order.extendedHours = request.extendedHours ?? false
            engine.submit(order) { result in
                respond(result.map { SubmitAnswer(order: $0.order, duplicate: $0.duplicate, linked: $0.linked) })
            }
        case "signal":
            let request = try read?.signal ?? decode(SignalRequest.self)
            let signal = SubmitSignal(
                account: request.account, signalID: request.signalID, strategy: request.strategy,
                symbol: request.symbol,
                side: request.side, entryType: request.entry?.type ?? .market, entryPrice: request.entry?.price,
                stopPrice: request.stopPrice, atr: request.atr, atrMultiple: request.atrMultiple,
                takeProfit: request.takeProfit, riskFraction: request.riskFraction, qty: request.qty,
                tif: request.tif ?? .day, tags: request.tags)
            if let qty = request.qty, !qty.isPositive {
                throw RequestProblem(field: "qty", message: "qty must be greater than zero")
            }
            engine.signal(signal) { result in
                respond(
                    result.map {
                        SignalAnswer(orders: $0.orders, sizing: $0.sizing, duplicate: $0.duplicate, bracket: $0.bracket)
                    })
            }
        case "cancel":
            let request = try read?.cancel ?? decode(CancelRequest.self)
            let reference = try Self.reference(request.orderID, request.clientOrderID)
            engine.cancel(account: request.account, reference) { respond($0.map(OrderAnswer.init(order:))) }
        case "replace":
            let request = try read?.replace ?? decode(ReplaceRequest.self)
            let reference = try Self.reference(request.orderID, request.clientOrderID)
            let replace = ReplaceOrder(
                account: request.account, reference: reference, qty: request.qty, limitPrice: request.limitPrice,
                stopPrice: request.stopPrice, tif: request.tif)
            engine.replace(replace) { respond($0.map(OrderAnswer.init(order:))) }
        case "cancel_all":
            let request = try read?.cancelAll ?? decode(CancelAllRequest.self)
            let list = ordersList(id)
            engine.cancelAll(account: request.account, symbol: request.symbol, slice: { list.append($0) }) {
                switch $0 {
                case .success:
                    let (parts, file) = list.finish()
                    answer(.answerLine(parts, file))
                case .failure(let error): answer(.answer(Self.failure(writer, id, error)))
                }
            }
        case "quote":
            let request = try read?.quote ?? decode(QuoteRequest.self)
            guard request.bid != nil || request.ask != nil || request.last != nil else {
                throw RequestProblem(field: "bid", message: "a quote needs at least one of bid, ask, last")
            }
            for (field, price) in [("bid", request.bid), ("ask", request.ask), ("last", request.last)] {
                if let price, !price.isPositive {
                    throw RequestProblem(field: field, message: "\(field) must be greater than zero")
                }
            }
            if let bid = request.bid, let ask = request.ask, bid > ask {
                throw RequestProblem(field: "bid", message: "bid \(bid) is above ask \(ask)")
            }
            for (field, size, side) in [
                ("bid_size", request.bidSize, request.bid), ("ask_size", request.askSize, request.ask),
            ] {
                guard let size else { continue }
                if !size.isPositive {
                    throw RequestProblem(field: field, message: "\(field) must be greater than zero")
                }
                if side == nil {
                    throw RequestProblem(field: field, message: "\(field) needs its price (\(field.prefix(3)))")
                }
            }
            if let volume = request.volume, volume.isNegative {
                throw RequestProblem(field: "volume", message: "volume must be zero or more")
            }
            let quote = Quote(
                symbol: request.symbol, bid: request.bid, ask: request.ask, last: request.last,
                ts: request.ts ?? clock.now(), bidSize: request.bidSize, askSize: request.askSize,
                volume: request.volume)
            engine.quote(quote) { respond($0.map(QuoteAnswer.init(quote:))) }
        case "status":
            let uptime = (clock.now().nanosecondsSinceEpoch - startedAt.nanosecondsSinceEpoch) / 1_000_000_000
            let version = self.version
            engine.status { result in
                respond(
                    result.map { status in
                        StatusAnswer(
                            server: "gatewayd", version: version, uptimeSeconds: uptime, seq: status.seq,
                            accounts: status.accounts, journal: status.journalFailure ?? "ok",
                            journalTables: status.tablesProblem ?? "ok", journalBacklog: status.tablesBacklog)
                    })
            }
        default:
            return false
        }
        return true
    }

    private func dispatch(_ op: String, id: RequestID, line: Data, decoder: JSONDecoder, caller: Caller)
        async throws -> Outcome
    {
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decode(type, from: line) }
        func answer<T: Encodable & Sendable>(_ result: Result<T, EngineError>) -> Outcome {
            switch result {
            case .success(let body): .answer(writer.success(id: id, body: body))
            case .failure(let error): .answer(failure(id, error))
            }
        }
        switch op {
        case "reload":
            guard let reloader else {
                return .answer(
                    writer.failure(id: id, code: "not_supported", message: "this gateway has no file to reload"))
            }
            switch await reloader.reload(requestedBy: caller.description) {
            case .success(let reloaded): return .answer(writer.success(id: id, body: reloaded))
            case .failure(let failure):
                return .answer(
                    writer.failure(
                        id: id, code: "invalid_config", message: failure.message, details: .problems(failure.problems)))
            }
        case "halt":
            let request = try decode(HaltRequest.self)
            return answer(
                await engine.halt(
                    account: request.account, reason: request.reason, cancelOpen: request.cancelOpen ?? false
                )
                .map(TradingStateAnswer.init(tradingState:)))
        case "reconcile":
            let request = try decode(ReconcileRequest.self)
            return answer(await engine.reconcile(account: request.account).map(ReconcileAnswer.init(reconciliations:)))
        case "resume":
            let request = try decode(ResumeRequest.self)
            return answer(
                await engine.resume(account: request.account, state: request.state ?? .active, reason: request.reason)
                    .map(TradingStateAnswer.init(tradingState:)))
        case "orders":
            let request = try decode(OrdersRequest.self)
            let filter = OrderFilter(
                account: request.account, openOnly: (request.status ?? .open) == .open, symbol: request.symbol,
                strategy: request.strategy)
            switch await engine.orders(filter) {
            case .success(let orders):
                // Written a slice at a time into the socket's buffers (`AnswerList`): with 100 000 open orders
                // the answer is about 34 MB, and written whole it was held as text and as a string too.
                let list = ordersList(id)
                for start in stride(from: 0, to: orders.count, by: 1_024) {
                    list.append(orders[start..<min(start + 1_024, orders.count)])
                }
                let (parts, file) = list.finish()
                return .answerLine(parts, file)
            case .failure(let error):
                return .answer(Self.failure(writer, id, error))
            }
        case "positions":
            let request = try decode(PositionsRequest.self)
            return answer(await engine.positions(account: request.account).map(PositionsAnswer.init(positions:)))
        case "account":
            let request = try decode(AccountRequest.self)
            return answer(await engine.account(request.account).map(AccountAnswer.init(account:)))
        case "subscribe":
            let request = try decode(SubscribeRequest.self)
            if let after = request.afterSeq, after < 0 {
                throw RequestProblem(field: "after_seq", message: "after_seq must be zero or more")
            }
            let answer = writer.success(id: id, body: SubscribeAnswer(afterSeq: request.afterSeq))
            guard let afterSeq = request.afterSeq else {
                return .subscribeLive(answer, kinds: request.kinds.map(Set.init))
            }
            return .subscribe(answer, engine.subscribe(afterSeq: afterSeq, kinds: request.kinds.map(Set.init)))
        case "journal":
            let request = try decode(JournalRequest.self)
            if let limit = request.limit, !(1...10_000).contains(limit) {
                throw RequestProblem(field: "limit", message: "limit must be from 1 to 10000")
            }
            let query = EventQuery(
                account: request.account, symbol: request.symbol, strategy: request.strategy, orderID: request.orderID,
                clientOrderID: request.clientOrderID, kinds: request.kinds, since: request.since, until: request.until,
                afterSeq: request.afterSeq,
                limit: request.limit ?? 1000)
            switch engine.journalEvents(query) {
            case .success(let events):
                return .answer(
                    writer.success(id: id, rawBody: "{\"events\":[" + events.map(\.line).joined(separator: ",") + "]}"))
            case .failure(let error):
                return .answer(failure(id, error))
            }
        case "journal_verify":
            return answer(await engine.audit(comparingState: try decode(VerifyRequest.self).state == true))
        case "journal_backup":
            return answer(engine.backupJournal(to: try decode(BackupRequest.self).path))
        case "report":
            let request = try decode(ReportRequest.self)
            if let since = request.since, let until = request.until, since > until {
                throw RequestProblem(field: "since", message: "since is after until")
            }
            let scope = ReportScope(
                account: request.account, strategy: request.strategy, symbol: request.symbol, since: request.since,
                until: request.until)
            switch engine.report(scope) {
            case .success(let report): return .answer(writer.success(id: id, body: report))
            case .failure(let error): return .answer(failure(id, error))
            }
        case "alert_test":
            let request = try decode(AlertTestRequest.self)
            guard let alerts, !alerts.destinationNames.isEmpty else {
                throw RequestProblem(
                    field: "destination", message: "no alert destinations are configured (alerts: in the config)")
            }
            if let name = request.destination, !alerts.destinationNames.contains(name) {
                throw RequestProblem(
                    field: "destination",
                    message:
                        "no alert destination named '\(name)' (configured: \(alerts.destinationNames.joined(separator: ", ")))"
                )
            }
            return answer(
                Result<AlertTestAnswer, EngineError>.success(
                    AlertTestAnswer(results: await alerts.sendTest(to: request.destination))))
        default:
            return .answer(
                writer.failure(id: id, code: "unknown_op", message: "unknown op '\(op)'", details: .field("op")))
        }
    }

    private func failure(_ id: RequestID, _ error: EngineError) -> String {
        Self.failure(writer, id, error)
    }

    /// The answer `{"id":…,"ok":true,"orders":[…]}` of `cancel_all` and `orders`, written as its orders
    /// are made (`AnswerList`).
    private func ordersList(_ id: RequestID) -> AnswerList {
        AnswerList(head: writer.successListHead(id: id, key: "orders"), spillDirectory: spillDirectory)
    }

    private static func failure(_ writer: AnswerWriter, _ id: RequestID, _ error: EngineError) -> String {
        if let checks = error.checks {
            return writer.failure(id: id, code: error.code.rawValue, message: error.message, details: .checks(checks))
        }
        return writer.failure(
            id: id, code: error.code.rawValue, message: error.message, details: error.field.map { .field($0) })
    }

    /// Who sent a request: the peer's credentials and the role `access:` gives it.
    public struct Caller: Sendable, CustomStringConvertible {
        public var peer: PeerCredentials?
        public var role: Role?

        public init(peer: PeerCredentials?, role: Role?) {
            self.peer = peer
            self.role = role
        }

        /// In-process callers (tests, tools): `admin`.
        public static let local = Caller(peer: nil, role: .admin)

        /// `uid 1000 (alice)`, for the journal.
        public var description: String {
            guard let peer else { return "an unidentified peer" }
            return "uid \(peer.uid) (\(peer.userName)) pid \(peer.pid)"
        }
    }

    static func reference(_ orderID: OrderID?, _ clientOrderID: ClientOrderID?) throws -> OrderReference {
        if let orderID { return .orderID(orderID) }
        if let clientOrderID { return .clientOrderID(clientOrderID) }
        throw RequestProblem(field: "order_id", message: "name the order with order_id or client_order_id")
    }
}

/// `gateway_request_seconds{op}`: from a request line read to its answer made, for the verbs of the order
/// path. Made on first use, after `gatewayd` has chosen the metrics backend.
enum RequestTimers {
    static let byOp: [String: Metrics.Timer] = Dictionary(
        uniqueKeysWithValues: ["submit", "signal", "cancel", "replace", "cancel_all"].map {
            ($0, Metrics.Timer(label: "gateway_request_seconds", dimensions: [("op", $0)]))
        })
}

/// A submit line read in one pass: the envelope's fields and the order's from the same object.
struct SubmitLine: Decodable {
    let envelope: RequestEnvelope
    let request: SubmitRequest

    init(envelope: RequestEnvelope, request: SubmitRequest) {
        self.envelope = envelope
        self.request = request
    }

    init(from decoder: any Decoder) throws {
        envelope = try RequestEnvelope(from: decoder)
        request = try SubmitRequest(from: decoder)
    }
}
