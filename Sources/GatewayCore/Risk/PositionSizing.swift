/// How an account turns a signal into a quantity.
public struct SizingPolicy: Sendable, Hashable {
    public enum Method: Sendable, Hashable {
        /// Always this many shares or contracts.
        case fixedQty(Quantity)
        /// As many as this amount buys at the entry price.
        case fixedNotional(Money)
        /// Risk this fraction of equity between entry and stop (a bought option risks its premium).
        case fixedFractional(riskFraction: Price)

        public var name: String {
            switch self {
            case .fixedQty: "fixed_qty"
            case .fixedNotional: "fixed_notional"
            case .fixedFractional: "fixed_fractional"
            }
        }
    }

    public var method: Method
    /// Round down to a multiple of this.
    public var lotSize: Quantity?
    /// Below this the signal is refused as `size_zero`.
    public var minQty: Quantity?
    /// Whether fractional shares are allowed; options are always whole contracts.
    public var fractional: Bool

    public init(method: Method, lotSize: Quantity? = nil, minQty: Quantity? = nil, fractional: Bool = false) {
        self.method = method
        self.lotSize = lotSize
        self.minQty = minQty
        self.fractional = fractional
    }
}

/// What sizing needs to know about the signal and the account.
public struct SizingInput: Sendable, Hashable {
    public var symbol: Symbol
    public var isBuy: Bool
    public var entry: Price
    public var stop: Price?
    public var equity: Money
    /// Overrides the policy's risk fraction for this signal.
    public var riskFraction: Price?
    /// Room left under the position limits, in units; `nil` for no limit.
    public var positionRoom: Quantity?
    /// For a defined-risk spread: the most one spread can lose, per share of the contract
    /// (`PositionSizing.spreadMaxLoss`); fixed_fractional sizing divides the budget by it.
    public var spreadMaxLoss: Price?

    public init(
        symbol: Symbol, isBuy: Bool, entry: Price, stop: Price?, equity: Money, riskFraction: Price? = nil,
        positionRoom: Quantity? = nil, spreadMaxLoss: Price? = nil
    ) {
        self.spreadMaxLoss = spreadMaxLoss
        self.symbol = symbol
        self.isBuy = isBuy
        self.entry = entry
        self.stop = stop
        self.equity = equity
        self.riskFraction = riskFraction
        self.positionRoom = positionRoom
    }
}

/// How the quantity was found, for the `sizing` field of the answer.
public struct SizingResult: Sendable, Hashable, Codable {
    public var method: String
    public var equity: Money
    public var riskMoney: Money?
    public var stopDistance: Price?
    public var rawQty: Quantity
    public var caps: [String]
    public var qty: Quantity

    enum CodingKeys: String, CodingKey {
        case method, equity, riskMoney = "risk_money", stopDistance = "stop_distance", rawQty = "raw_qty", caps, qty
    }
}

/// Why a signal could not be sized: a field at fault, or a size of zero.
public struct SizingProblem: Error, Sendable, Hashable {
    /// `bad_request` with a field, or `size_zero`.
    public var code: String
    public var field: String?
    public var message: String
}

/// Position sizing as a pure function: never a crash, never a huge order — degenerate input is a
/// problem naming the field, and every cap only ever lowers the quantity.
public enum PositionSizing {
    public static func size(_ input: SizingInput, policy: SizingPolicy) -> Result<SizingResult, SizingProblem> {
        func bad(_ field: String, _ message: String) -> Result<SizingResult, SizingProblem> {
            .failure(SizingProblem(code: "bad_request", field: field, message: message))
        }
        guard input.entry.isPositive else { return bad("entry", "the entry price must be greater than zero") }
        if let stop = input.stop {
            guard stop.isPositive else { return bad("stop_price", "the stop must be greater than zero") }
            if input.isBuy && stop >= input.entry {
                return bad("stop_price", "a buy's stop \(stop) must be below its entry \(input.entry)")
            }
            if !input.isBuy && stop <= input.entry {
                return bad("stop_price", "a sell's stop \(stop) must be above its entry \(input.entry)")
            }
        }
        let multiplier = input.symbol.multiplier
        var riskMoney: Money?
        var distance: Price?
        let raw: Quantity
        switch policy.method {
        case .fixedQty(let qty):
            raw = qty
        case .fixedNotional(let amount):
            guard let unit = input.entry.notional(Quantity(1), multiplier: multiplier), unit.isPositive else {
                return bad("entry", "the entry price is too small to size against")
            }
            raw = Quantity(units: quotient(amount.units, unit.units, scale: QuantityKind.scale))
        case .fixedFractional(let defaultFraction):
            let fraction = input.riskFraction ?? defaultFraction
            guard fraction.isPositive, fraction < Price(1) else {
                return bad("risk_fraction", "risk_fraction must be greater than 0 and less than 1")
            }
            // A bought option without a stop risks its whole premium.
            let perUnit: Price
            if let maxLoss = input.spreadMaxLoss {
                guard maxLoss.isPositive else {
                    return bad("legs", "a defined-risk spread must have a maximum loss greater than zero")
                }
                perUnit = maxLoss
            } else if let stop = input.stop {
                perUnit = (input.entry - stop).magnitude
            } else if input.symbol.isOption && input.isBuy {
                perUnit = input.entry
            } else {
                return bad("stop_price", "fixed_fractional sizing needs stop_price (or atr and atr_multiple)")
            }
            distance = perUnit
            let budget = Money(
                units: Int64(Int128(input.equity.units) * Int128(fraction.units) / Int128(Price.unitsPerOne)))
            riskMoney = budget
            guard let unitRisk = perUnit.notional(Quantity(1), multiplier: multiplier), unitRisk.isPositive else {
                return bad("stop_price", "the stop is too close to the entry to size against")
            }
            raw = Quantity(units: quotient(budget.units, unitRisk.units, scale: QuantityKind.scale))
        }
        var qty = raw
        var caps: [String] = []
        if let room = input.positionRoom, qty > room {
            qty = max(.zero, room)
            caps.append("max_position: \(qty)")
        }
        if input.symbol.isOption || !policy.fractional {
            let whole = Quantity(units: qty.units - qty.units % Quantity.unitsPerOne)
            if whole != qty { caps.append(input.symbol.isOption ? "whole contracts" : "whole shares") }
            qty = whole
        }
        if let lot = policy.lotSize, lot.isPositive {
            let lots = Quantity(units: qty.units - qty.units % lot.units)
            if lots != qty { caps.append("lot size \(lot)") }
            qty = lots
        }
        if let minimum = policy.minQty, qty < minimum {
            return .failure(
                SizingProblem(
                    code: "size_zero", field: nil, message: "the sized quantity \(qty) is under the minimum \(minimum)")
            )
        }
        guard qty.isPositive else {
            return .failure(
                SizingProblem(
                    code: "size_zero", field: nil,
                    message:
                        "the signal sizes to zero (\(policy.method.name), raw \(raw)\(caps.isEmpty ? "" : ", " + caps.joined(separator: ", ")))"
                ))
        }
        return .success(
            SizingResult(
                method: policy.method.name, equity: input.equity, riskMoney: riskMoney, stopDistance: distance,
                rawQty: raw,
                caps: caps, qty: qty))
    }

    /// The most one vertical spread (two options of one root, expiry and right, one bought and one sold)
    /// can lose, per share: the debit paid when `netPrice` is positive, else the strikes' width less the
    /// credit received. Anything else is not a defined-risk spread and is refused naming `legs`.
    public static func spreadMaxLoss(long: Symbol, short: Symbol, netPrice: Price) -> Result<Price, SizingProblem> {
        func bad(_ message: String) -> Result<Price, SizingProblem> {
            .failure(SizingProblem(code: "bad_request", field: "legs", message: message))
        }
        guard case .option(let bought) = long.kind, case .option(let sold) = short.kind else {
            return bad("a defined-risk spread needs two option legs")
        }
        guard bought.root == sold.root, bought.expiration == sold.expiration, bought.right == sold.right,
            bought.strike != sold.strike
        else {
            return bad("the legs are not a vertical spread (one root, expiry and right, two strikes)")
        }
        let width = (bought.strike - sold.strike).magnitude
        guard netPrice.magnitude < width else {
            let what = netPrice.isPositive ? "debit" : "credit"
            return bad("a \(what) of \(netPrice.magnitude) is not less than the spread's width \(width)")
        }
        return .success(netPrice.isPositive ? netPrice : width - netPrice.magnitude)
    }

    /// `numerator / denominator` as a fixed-point mantissa at `scale`, rounded down (never up: a sized
    /// order never risks more than its budget).
    static func quotient(_ numerator: Int64, _ denominator: Int64, scale: Int) -> Int64 {
        let scaled = Int128(numerator) * Int128(pow10(scale))
        let result = scaled / Int128(denominator)
        return Int64(clamping: result)
    }
}
