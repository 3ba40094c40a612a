import Foundation
import Synchronization

/// A loopback Alpaca Trading API (REST, as `reference/brokers/alpaca.md` describes it) with state of its
/// own: orders by id and by client order id, cancels, replaces, the account and positions. It checks
/// the two `APCA-` headers on every request, refuses a reused `client_order_id` as Alpaca does (422), and
/// misbehaves on command: the next requests answered 429 with a `Retry-After`, or an order taken and
/// then answered 500, as if the answer were lost.
public final class FakeAlpaca: Sendable {
    public let server: LoopbackHTTPServer
    public let keyID: String
    public let secret: String
    private let state = Mutex(State())

    /// An order as the fake keeps it: Alpaca's Order object as a JSON dictionary.
    struct State {
        var orders: [String: [String: any Sendable]] = [:]
        var order: [String] = []
        var byClientID: [String: String] = [:]
        var next = 1
        var acceptThenFail = 0
        /// Positions as set by a test, or (when `nil`) as the executions made them.
        var positions: [[String: String]]?
        /// Per symbol, the quantity held (negative short) and its cost, moved by every execution.
        var held: [String: (qty: Decimal, cost: Decimal)] = [:]
        var activities: [[String: String]] = []
        var activityPageSize: Int?
    }

    public init(keyID: String = "PKTEST", secret: String = "fake-secret-never-logged") async throws {
        server = try await LoopbackHTTPServer()
        self.keyID = keyID
        self.secret = secret
        server.respond { [weak self] request in
            self?.answer(request) ?? .init(status: 503)
        }
    }

    /// `http://127.0.0.1:PORT`, the REST base URL.
    public var url: String { server.url("") }

    /// The next `count` requests are answered 429 with `Retry-After: seconds`.
    public func rateLimit(next count: Int, retryAfter seconds: Int) {
        server.script(
            Array(
                repeating: .init(
                    status: 429, headers: ["Retry-After": "\(seconds)"], body: #"{"message":"too many requests"}"#),
                count: count))
    }

    /// The next order POSTed is taken, then answered 500: the client cannot know it was taken.
    public func acceptThenFailNextOrder() { state.withLock { $0.acceptThenFail += 1 } }

    /// The orders the fake holds, oldest first, as Alpaca would return them.
    public var orders: [[String: any Sendable]] {
        state.withLock { state in state.order.compactMap { state.orders[$0] } }
    }

    /// Moves an order to a new status (`filled`, `canceled`, …) with `filled_qty` and
    /// `filled_avg_price`, as Alpaca would after executions.
    public func set(clientOrderID: String, status: String, filledQty: String? = nil, avgPrice: String? = nil) {
        guard let id = alpacaID(of: clientOrderID) else { return }
        set(alpacaID: id, status: status, filledQty: filledQty, avgPrice: avgPrice)
    }

    /// Alpaca's id of the order with this client order id.
    func alpacaID(of clientOrderID: String) -> String? { state.withLock { $0.byClientID[clientOrderID] } }

    /// An order by Alpaca's own id, as Alpaca's JSON (bracket legs have no client order id of ours).
    public func json(ofAlpacaOrder id: String) -> String? {
        state.withLock { $0.orders[id] }.flatMap(Self.text)
    }

    /// A JSON object as text, keys sorted.
    static func text(_ object: Any) -> String? {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    /// A new order id in Alpaca's UUID form, unique within this fake.
    static func newID(_ state: inout State) -> String {
        defer { state.next += 1 }
        return String(format: "00000000-0000-4000-8000-%012d", state.next)
    }

    /// Moves the order with Alpaca's id `id` (a bracket leg) to `status` with a fill total.
    public func set(alpacaID id: String, status: String, filledQty: String? = nil, avgPrice: String? = nil) {
        state.withLock { state in
            state.orders[id]?["status"] = status
            if let filledQty { state.orders[id]?["filled_qty"] = filledQty }
            if let avgPrice { state.orders[id]?["filled_avg_price"] = avgPrice }
        }
    }

    /// The order as Alpaca's JSON, for a stream event about it.
    public func json(ofOrder clientOrderID: String) -> String? {
        alpacaID(of: clientOrderID).flatMap(json(ofAlpacaOrder:))
    }

    /// An execution of `qty` at `price` on the order `clientOrderID`: its totals move, a fill activity is
    /// recorded (`GET /v2/account/activities/FILL`), and the stream's event for it is returned.
    @discardableResult
    public func execute(clientOrderID: String, qty: String, price: String, executionID: String) -> String? {
        state.withLock { state -> String? in
            guard let id = state.byClientID[clientOrderID], var order = state.orders[id],
                let filledBefore = Decimal(string: order["filled_qty"] as? String ?? "0"),
                let total = Decimal(string: order["qty"] as? String ?? "0"), let add = Decimal(string: qty),
                let at = Decimal(string: price)
            else { return nil }
            let averageBefore = Decimal(string: order["filled_avg_price"] as? String ?? "0") ?? 0
            let filled = filledBefore + add
            let average = (averageBefore * filledBefore + at * add) / filled
            order["filled_qty"] = "\(filled)"
            order["filled_avg_price"] = "\(average)"
            order["status"] = filled >= total ? "filled" : "partially_filled"
            state.orders[id] = order
            let side = order["side"] as? String ?? "buy"
            Self.move(&state, symbol: order["symbol"] as? String ?? "", by: side == "buy" ? add : -add, at: at)
            state.activities.append([
                "id": String(format: "20261202143000%06d::%@", state.activities.count + 1, executionID),
                "activity_type": "FILL", "transaction_time": "2026-12-02T14:30:0\(state.activities.count % 10)Z",
                "type": filled >= total ? "fill" : "partial_fill", "price": price, "qty": qty,
                "side": order["side"] as? String ?? "buy", "symbol": order["symbol"] as? String ?? "",
                "cum_qty": "\(filled)", "leaves_qty": "\(total - filled)", "order_id": id,
                "order_status": order["status"] as? String ?? "",
            ])
            return Self.text(order).map {
                #"{"event":"\#(filled >= total ? "fill" : "partial_fill")","execution_id":"\#(executionID)","#
                    + #""price":"\#(price)","qty":"\#(qty)","order":\#($0)}"#
            }
        }
    }

    /// An execution of `qty` spreads of the multi-leg order `clientOrderID`, each leg at its price in
    /// `legPrices` (by the leg's symbol as sent): the legs' and the parent's totals move (the parent's
    /// average is the net, buys less sells, per spread), a fill activity is recorded per leg, and the
    /// stream's event for the parent, legs nested, is returned.
    @discardableResult
    public func executeSpread(
        clientOrderID: String, qty: String, legPrices: [String: String], executionID: String
    ) -> String? {
        state.withLock { state -> String? in
            guard let id = state.byClientID[clientOrderID], var order = state.orders[id],
                var legs = order["legs"] as? [[String: any Sendable]], let add = Decimal(string: qty)
            else { return nil }
            let filledBefore = Decimal(string: order["filled_qty"] as? String ?? "0") ?? 0
            let total = Decimal(string: order["qty"] as? String ?? "0") ?? 0
            var net: Decimal = 0
            for index in legs.indices {
                var leg = legs[index]
                let symbol = leg["symbol"] as? String ?? ""
                guard let price = legPrices[symbol].flatMap({ Decimal(string: $0) }) else { return nil }
                let ratio = Decimal(string: leg["ratio_qty"] as? String ?? "1") ?? 1
                let before = Decimal(string: leg["filled_qty"] as? String ?? "0") ?? 0
                let averageBefore = Decimal(string: leg["filled_avg_price"] as? String ?? "0") ?? 0
                let legAdd = add * ratio
                let filled = before + legAdd
                leg["filled_qty"] = "\(filled)"
                leg["filled_avg_price"] = "\((averageBefore * before + price * legAdd) / filled)"
                leg["status"] =
                    filled >= (Decimal(string: leg["qty"] as? String ?? "0") ?? 0) ? "filled" : "partially_filled"
                net += (leg["side"] as? String == "buy" ? price : -price) * ratio
                Self.move(&state, symbol: symbol, by: leg["side"] as? String == "buy" ? legAdd : -legAdd, at: price)
                legs[index] = leg
                state.orders[leg["id"] as! String] = leg
                state.activities.append([
                    "id": String(format: "20261202143000%06d::%@", state.activities.count + 1, executionID),
                    "activity_type": "FILL", "transaction_time": "2026-12-02T14:30:0\(state.activities.count % 10)Z",
                    "type": leg["status"] as? String == "filled" ? "fill" : "partial_fill", "price": "\(price)",
                    "qty": "\(legAdd)", "side": leg["side"] as? String ?? "", "symbol": symbol, "cum_qty": "\(filled)",
                    "leaves_qty": "0", "order_id": leg["id"] as? String ?? "",
                    "order_status": leg["status"] as? String ?? "",
                ])
            }
            let averageBefore = Decimal(string: order["filled_avg_price"] as? String ?? "0") ?? 0
            let filled = filledBefore + add
            order["filled_qty"] = "\(filled)"
            order["filled_avg_price"] = "\((averageBefore * filledBefore + net * add) / filled)"
            order["status"] = filled >= total ? "filled" : "partially_filled"
            order["legs"] = legs
            state.orders[id] = order
            return Self.text(order).map {
                #"{"event":"\#(filled >= total ? "fill" : "partial_fill")","execution_id":"\#(executionID)","#
                    + #""order":\#($0)}"#
            }
        }
    }

    /// Pages of fill activities hold at most this many (to exercise a client's paging).
    public func pageActivities(by size: Int) { state.withLock { $0.activityPageSize = size } }

    /// Positions answered as given, from now on, whatever executes.
    public func setPositions(_ positions: [[String: String]]) { state.withLock { $0.positions = positions } }

    /// Changes a position behind the client's back (a trade made in Alpaca's app): `qty` more of `symbol`
    /// (negative: less) at `price`, with no order or activity the client could see.
    public func adjustPosition(symbol: String, by qty: String, price: String) {
        guard let qty = Decimal(string: qty), let price = Decimal(string: price) else { return }
        state.withLock { Self.move(&$0, symbol: symbol, by: qty, at: price) }
    }

    /// A position moved by a trade of `qty` (negative: a sale) at `price`; the cost is averaged while the
    /// position grows and scaled down while it shrinks, as a broker's average entry price is.
    static func move(_ state: inout State, symbol: String, by qty: Decimal, at price: Decimal) {
        var position = state.held[symbol] ?? (qty: 0, cost: 0)
        let grows = position.qty == 0 || (position.qty > 0) == (qty > 0)
        if grows {
            position.cost += qty * price
        } else if (position.qty + qty) == 0 || (position.qty > 0) != (position.qty + qty > 0) {
            position.cost = (position.qty + qty) * price
        } else {
            position.cost = position.cost * (position.qty + qty) / position.qty
        }
        position.qty += qty
        state.held[symbol] = position.qty == 0 ? nil : position
    }

    /// `GET /v2/positions` as the executions made them.
    static func positions(_ state: State) -> [[String: String]] {
        if let positions = state.positions { return positions }
        return state.held.keys.sorted().map { symbol in
            let position = state.held[symbol]!
            return [
                "symbol": symbol, "qty": "\(position.qty)", "avg_entry_price": "\(position.cost / position.qty)",
                "side": position.qty > 0 ? "long" : "short",
            ]
        }
    }

    /// An order placed at Alpaca by something other than the gateway (by hand in Alpaca's app, or another
    /// program): it works at the fake like any other. Returns Alpaca's id of it.
    @discardableResult
    public func placeExternal(
        clientOrderID: String, symbol: String, side: String, qty: String, type: String = "limit",
        limitPrice: String? = nil, timeInForce: String = "day"
    ) -> String? {
        var body: [String: Any] = [
            "client_order_id": clientOrderID, "symbol": symbol, "side": side, "qty": qty, "type": type,
            "time_in_force": timeInForce,
        ]
        body["limit_price"] = limitPrice
        _ = submit(body)
        return alpacaID(of: clientOrderID)
    }

    func answer(_ request: LoopbackHTTPServer.Request) -> LoopbackHTTPServer.Reply {
        guard request.headers["apca-api-key-id"] == keyID, request.headers["apca-api-secret-key"] == secret else {
            return .init(status: 401, body: #"{"message":"unauthorized"}"#)
        }
        let parts = request.uri.split(separator: "?", maxSplits: 1)
        let path = String(parts.first ?? "")
        let query = parts.count > 1 ? Self.query(String(parts[1])) : [:]
        switch (request.method, path) {
        case ("POST", "/v2/orders"): return submit(request.json ?? [:])
        case ("GET", "/v2/orders:by_client_order_id"):
            return state.withLock { state in
                guard let id = state.byClientID[query["client_order_id"] ?? ""], let order = state.orders[id] else {
                    return Self.notFound
                }
                return Self.json(order)
            }
        case ("GET", "/v2/orders"):
            let open: Set<String> = ["new", "accepted", "pending_new", "partially_filled", "held", "pending_cancel"]
            let all = orders
            // Nested, a leg is listed under its parent only.
            let legs =
                query["nested"] == "true"
                ? Set(
                    all.flatMap { ($0["legs"] as? [[String: any Sendable]] ?? []).compactMap { $0["id"] as? String } })
                : []
            return Self.json(
                all.filter { open.contains($0["status"] as? String ?? "") && !legs.contains($0["id"] as? String ?? "") }
            )
        case ("GET", "/v2/account"):
            return Self.json([
                "id": "fake-account", "status": "ACTIVE", "currency": "USD", "cash": "100000", "equity": "100000",
                "buying_power": "200000", "trading_blocked": false,
            ])
        case ("GET", "/v2/account/activities/FILL"):
            return state.withLock { state in
                var list = state.activities
                if let token = query["page_token"], let index = list.firstIndex(where: { $0["id"] == token }) {
                    list = Array(list[(index + 1)...])
                }
                let size = min(Int(query["page_size"] ?? "50") ?? 50, state.activityPageSize ?? 100)
                return Self.json(Array(list.prefix(size)))
            }
        case ("GET", "/v2/positions"):
            return Self.json(state.withLock { Self.positions($0) })
        default:
            break
        }
        if path.hasPrefix("/v2/orders/") {
            let id = String(path.dropFirst("/v2/orders/".count))
            switch request.method {
            case "GET":
                return state.withLock { $0.orders[id].map(Self.json) ?? Self.notFound }
            case "PATCH":
                return replace(id, with: request.json ?? [:])
            case "DELETE":
                return state.withLock { state in
                    guard let status = state.orders[id]?["status"] as? String else { return Self.notFound }
                    if ["filled", "canceled", "expired", "replaced", "rejected"].contains(status) {
                        return .init(status: 422, body: #"{"code":42210000,"message":"order is not cancelable"}"#)
                    }
                    state.orders[id]?["status"] = "pending_cancel"
                    return .init(status: 204)
                }
            default: break
            }
        }
        return .init(status: 404, body: #"{"code":40410000,"message":"endpoint not found"}"#)
    }

    func submit(_ body: [String: Any]) -> LoopbackHTTPServer.Reply {
        state.withLock { state in
            let clientID = body["client_order_id"] as? String ?? UUID().uuidString
            if state.byClientID[clientID] != nil {
                return .init(status: 422, body: #"{"code":40010001,"message":"client_order_id must be unique"}"#)
            }
            let id = Self.newID(&state)
            var order: [String: any Sendable] = [
                "id": id, "client_order_id": clientID, "status": "accepted", "filled_qty": "0",
                "order_class": body["order_class"] as? String ?? "", "created_at": "2026-12-02T14:30:00.000000000Z",
            ]
            for key in [
                "symbol", "qty", "side", "type", "time_in_force", "limit_price", "stop_price", "trail_price",
                "trail_percent",
            ] {
                if let value = body[key] as? String { order[key] = value }
            }
            let orderClass = body["order_class"] as? String ?? ""
            if orderClass == "mleg" {
                // A spread, as the reference's §3 says Alpaca shows it: no symbol or side on the parent;
                // legs that carry theirs, `ratio_qty`, `position_intent`, and an id of Alpaca's own.
                order["symbol"] = ""
                order["side"] = ""
                order["asset_class"] = ""
                let quantity = Decimal(string: order["qty"] as? String ?? "0") ?? 0
                order["legs"] = (body["legs"] as? [[String: Any]] ?? []).map { leg -> [String: any Sendable] in
                    let ratio = leg["ratio_qty"] as? String ?? "1"
                    let child: [String: any Sendable] = [
                        "id": Self.newID(&state), "client_order_id": UUID().uuidString.lowercased(),
                        "status": "accepted", "filled_qty": "0", "order_class": "mleg", "type": "",
                        "symbol": leg["symbol"] as? String ?? "", "side": leg["side"] as? String ?? "",
                        "position_intent": leg["position_intent"] as? String ?? "", "ratio_qty": ratio,
                        "qty": "\(quantity * (Decimal(string: ratio) ?? 1))",
                    ]
                    state.orders[child["id"] as! String] = child
                    state.order.append(child["id"] as! String)
                    return child
                }
            }
            // A bracket's, OTO's or OCO's other orders, as Alpaca makes them: legs with ids and client ids
            // of Alpaca's own; a bracket's and an OTO's held until the parent fills, an OCO's stop working
            // beside its parent (the limit, on the same side).
            var legs: [[String: any Sendable]] = []
            if orderClass != "oco", let target = body["take_profit"] as? [String: Any],
                let price = target["limit_price"] as? String
            {
                legs.append(["type": "limit", "limit_price": price])
            }
            if let stop = body["stop_loss"] as? [String: Any], let price = stop["stop_price"] as? String {
                var leg: [String: any Sendable] = ["type": stop["limit_price"] == nil ? "stop" : "stop_limit"]
                leg["stop_price"] = price
                if let limit = stop["limit_price"] as? String { leg["limit_price"] = limit }
                legs.append(leg)
            }
            if !legs.isEmpty {
                order["legs"] = legs.map { leg -> [String: any Sendable] in
                    var child = leg
                    child["id"] = Self.newID(&state)
                    child["client_order_id"] = UUID().uuidString.lowercased()
                    child["status"] = orderClass == "oco" ? "new" : "held"
                    child["order_class"] = orderClass
                    child["filled_qty"] = "0"
                    child["qty"] = order["qty"] as? String ?? "0"
                    child["symbol"] = order["symbol"] as? String ?? ""
                    let side = order["side"] as? String ?? "buy"
                    child["side"] = orderClass == "oco" ? side : (side == "buy" ? "sell" : "buy")
                    state.orders[child["id"] as! String] = child
                    state.order.append(child["id"] as! String)
                    return child
                }
            }
            state.orders[id] = order
            state.order.append(id)
            state.byClientID[clientID] = id
            if state.acceptThenFail > 0 {
                state.acceptThenFail -= 1
                return .init(status: 500, body: #"{"message":"internal server error"}"#)
            }
            return Self.json(order)
        }
    }

    /// `PATCH /v2/orders/{id}`: a new order with the changes (`replaces` the old one), the old one
    /// `replaced` by it.
    func replace(_ id: String, with changes: [String: Any]) -> LoopbackHTTPServer.Reply {
        state.withLock { state in
            guard var old = state.orders[id] else { return Self.notFound }
            guard ["new", "accepted", "partially_filled"].contains(old["status"] as? String ?? "") else {
                return .init(status: 422, body: #"{"code":42210000,"message":"order is not replaceable"}"#)
            }
            let newID = Self.newID(&state)
            var new = old
            new["id"] = newID
            new["replaces"] = id
            new["status"] = "accepted"
            new["client_order_id"] = changes["client_order_id"] as? String ?? UUID().uuidString
            for key in ["qty", "time_in_force", "limit_price", "stop_price"] {
                if let value = changes[key] as? String { new[key] = value }
            }
            old["status"] = "replaced"
            old["replaced_by"] = newID
            state.orders[id] = old
            state.orders[newID] = new
            state.order.append(newID)
            state.byClientID[new["client_order_id"] as! String] = newID
            return Self.json(new)
        }
    }

    static let notFound = LoopbackHTTPServer.Reply(status: 404, body: #"{"code":40410000,"message":"order not found"}"#)

    static func json(_ object: Any) -> LoopbackHTTPServer.Reply {
        .init(status: 200, headers: ["Content-Type": "application/json"], body: text(object) ?? "{}")
    }

    static func query(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).removingPercentEncoding ?? String($0)
            }
            if parts.count == 2 { result[parts[0]] = parts[1] }
        }
        return result
    }

    public func shutdown() async { await server.shutdown() }
}
