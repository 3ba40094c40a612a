import GatewayCore
import Yams

extension ConfigReader {
    static let riskKeys: Set<String> = [
        "max_order_qty", "max_order_notional", "max_position_qty", "max_position_notional", "max_gross_exposure",
        "max_net_exposure", "max_open_orders", "max_orders_per_second", "max_orders_per_day", "max_daily_loss",
        "max_drawdown", "price_collar_pct", "require_reference_price", "restricted_symbols", "allowed_symbols",
        "allowed_order_types", "max_option_contracts", "allow_short", "buying_power_multiplier", "on_daily_loss",
    ]

    /// `accounts[].risk`: every key optional, absent meaning no limit; negative or malformed limits,
    /// unknown keys, symbols and order types are all reported.
    mutating func risk(_ node: Node, at path: String) -> RiskLimits {
        guard let map = mapping(node, at: path, keys: Self.riskKeys) else { return .none }
        var limits = RiskLimits()
        limits.maxOrderQty = decimal(map["max_order_qty"], at: "\(path).max_order_qty")
        limits.maxOrderNotional = decimal(map["max_order_notional"], at: "\(path).max_order_notional")
        limits.maxPositionQty = decimal(map["max_position_qty"], at: "\(path).max_position_qty")
        limits.maxPositionNotional = decimal(map["max_position_notional"], at: "\(path).max_position_notional")
        limits.maxGrossExposure = decimal(map["max_gross_exposure"], at: "\(path).max_gross_exposure")
        limits.maxNetExposure = decimal(map["max_net_exposure"], at: "\(path).max_net_exposure")
        limits.maxOpenOrders = count(map["max_open_orders"], at: "\(path).max_open_orders")
        limits.maxOrdersPerSecond = count(map["max_orders_per_second"], at: "\(path).max_orders_per_second")
        limits.maxOrdersPerDay = count(map["max_orders_per_day"], at: "\(path).max_orders_per_day")
        limits.maxDailyLoss = decimal(map["max_daily_loss"], at: "\(path).max_daily_loss")
        limits.maxDrawdown = decimal(map["max_drawdown"], at: "\(path).max_drawdown")
        limits.priceCollarPct = decimal(map["price_collar_pct"], at: "\(path).price_collar_pct")
        limits.requireReferencePrice =
            flag(map["require_reference_price"], at: "\(path).require_reference_price") ?? false
        limits.restrictedSymbols = Set(symbols(map["restricted_symbols"], at: "\(path).restricted_symbols") ?? [])
        limits.allowedSymbols = symbols(map["allowed_symbols"], at: "\(path).allowed_symbols").map(Set.init)
        if let types = list(map["allowed_order_types"], at: "\(path).allowed_order_types") {
            var allowed: Set<OrderType> = []
            for type in types {
                if let known = OrderType(rawValue: type) {
                    allowed.insert(known)
                } else {
                    problems.append(
                        "\(path).allowed_order_types: '\(type)' is not one of "
                            + OrderType.allCases.map(\.rawValue).joined(separator: ", "))
                }
            }
            limits.allowedOrderTypes = allowed
        }
        limits.maxOptionContracts = decimal(map["max_option_contracts"], at: "\(path).max_option_contracts")
        limits.allowShort = flag(map["allow_short"], at: "\(path).allow_short") ?? true
        limits.buyingPowerMultiplier = decimal(map["buying_power_multiplier"], at: "\(path).buying_power_multiplier")
        if let target = string(map["on_daily_loss"], at: "\(path).on_daily_loss") {
            if target == "halted" || target == "reducing" {
                limits.onLossBreach = TradingState(rawValue: target)!
            } else {
                problems.append("\(path).on_daily_loss: '\(target)' is not reducing or halted")
            }
        }
        return limits
    }

    /// `accounts[].strategies`: per strategy name, `risk` limits checked as well as the account's, and a
    /// `sizing` policy used instead of the account's.
    mutating func strategies(_ node: Node, at path: String) -> (
        limits: [String: RiskLimits], sizing: [String: SizingPolicy]
    ) {
        guard case .mapping(let mapping) = node else {
            problems.append("\(path): must map strategy names to their risk and sizing")
            return ([:], [:])
        }
        var limits: [String: RiskLimits] = [:]
        var sizing: [String: SizingPolicy] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string, !name.isEmpty, name.utf8.count <= 64 else {
                problems.append("\(path): strategy names are 1 to 64 characters")
                continue
            }
            guard let entry = self.mapping(value, at: "\(path).\(name)", keys: ["risk", "sizing"]) else { continue }
            if let risk = entry["risk"] { limits[name] = self.risk(risk, at: "\(path).\(name).risk") }
            if let policy = entry["sizing"].flatMap({ self.sizing($0, at: "\(path).\(name).sizing") }) {
                sizing[name] = policy
            }
        }
        return (limits, sizing)
    }

    /// `accounts[].sizing`: how signals become quantities.
    mutating func sizing(_ node: Node, at path: String) -> SizingPolicy? {
        let keys: Set<String> = ["method", "qty", "notional", "risk_fraction", "lot_size", "min_qty", "fractional"]
        guard let map = mapping(node, at: path, keys: keys) else { return nil }
        let method: SizingPolicy.Method
        switch string(map["method"], at: "\(path).method", required: true) {
        case "fixed_qty":
            guard let qty: Quantity = decimal(map["qty"], at: "\(path).qty"), qty.isPositive else {
                problems.append("\(path).qty: fixed_qty needs a qty greater than zero")
                return nil
            }
            method = .fixedQty(qty)
        case "fixed_notional":
            guard let amount: Money = decimal(map["notional"], at: "\(path).notional"), amount.isPositive else {
                problems.append("\(path).notional: fixed_notional needs a notional greater than zero")
                return nil
            }
            method = .fixedNotional(amount)
        case "fixed_fractional":
            guard let fraction: Price = decimal(map["risk_fraction"], at: "\(path).risk_fraction"), fraction.isPositive,
                fraction < Price(1)
            else {
                problems.append("\(path).risk_fraction: fixed_fractional needs a risk_fraction between 0 and 1")
                return nil
            }
            method = .fixedFractional(riskFraction: fraction)
        case let other?:
            problems.append("\(path).method: '\(other)' is not fixed_qty, fixed_notional or fixed_fractional")
            return nil
        case nil:
            return nil
        }
        return SizingPolicy(
            method: method, lotSize: decimal(map["lot_size"], at: "\(path).lot_size"),
            minQty: decimal(map["min_qty"], at: "\(path).min_qty"),
            fractional: flag(map["fractional"], at: "\(path).fractional") ?? false)
    }

    /// A decimal of zero or more, exact at the kind's scale.
    mutating func decimal<Kind: FixedKind>(_ node: Node?, at path: String) -> Fixed<Kind>? {
        guard let text = string(node, at: path) else { return nil }
        guard let value = Fixed<Kind>(text), !value.isNegative else {
            problems.append("\(path): '\(text)' is not a decimal of zero or more")
            return nil
        }
        return value
    }

    mutating func count(_ node: Node?, at path: String) -> Int? {
        guard let text = string(node, at: path) else { return nil }
        guard let value = Int(text), value >= 0 else {
            problems.append("\(path): '\(text)' is not a whole number of zero or more")
            return nil
        }
        return value
    }

    mutating func flag(_ node: Node?, at path: String) -> Bool? {
        guard let text = string(node, at: path) else { return nil }
        switch text {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            problems.append("\(path): '\(text)' is not true or false")
            return nil
        }
    }

    mutating func list(_ node: Node?, at path: String) -> [String]? {
        guard let node else { return nil }
        guard case .sequence(let items) = node else {
            problems.append("\(path): must be a list")
            return nil
        }
        return items.compactMap { string($0, at: path) }
    }

    mutating func symbols(_ node: Node?, at path: String) -> [Symbol]? {
        list(node, at: path).map { texts in
            texts.compactMap { text in
                guard let symbol = Symbol(text) else {
                    problems.append("\(path): '\(text)' is neither a ticker nor an OCC option symbol")
                    return nil
                }
                return symbol
            }
        }
    }
}
