import BrokerPaper
import GatewayCore
import Yams

extension ConfigReader {
    /// `paper.slippage`: `{bps: "5"}` (basis points of the touch) or `{spread_fraction: "0.5"}` (of the
    /// quoted spread); absent, fills are at the touch.
    mutating func slippage(_ node: Node?, at path: String) -> PaperSlippage {
        guard let node, let map = mapping(node, at: path, keys: ["bps", "spread_fraction"]) else { return .none }
        let bps: Price? = decimal(map["bps"], at: "\(path).bps")
        let fraction: Price? = decimal(map["spread_fraction"], at: "\(path).spread_fraction")
        switch (bps, fraction) {
        case (let bps?, nil): return .basisPoints(bps)
        case (nil, let fraction?): return .spreadFraction(fraction)
        case (nil, nil):
            if map.isEmpty { problems.append("\(path): give bps or spread_fraction") }
            return .none
        case (.some, .some):
            problems.append("\(path): bps or spread_fraction, not both")
            return .none
        }
    }

    /// `accounts[].paper.commission` and `.fees`: the costs the paper broker charges (docs/configuration.md).
    mutating func costs(commission: Node?, fees: Node?, at path: String) -> CostModel {
        var model = CostModel()
        if let commission {
            let at = "\(path).commission"
            let keys: Set<String> = [
                "model", "per_share", "minimum", "maximum_pct", "per_contract", "cap_per_leg", "free_closing",
            ]
            if let map = mapping(commission, at: at, keys: keys) {
                let name = string(map["model"], at: "\(at).model", required: true)
                func only(_ allowed: Set<String>) {
                    for key in map.keys where key != "model" && !allowed.contains(key) {
                        problems.append("\(at).\(key): not a setting of the \(name ?? "?") model")
                    }
                }
                switch name {
                case "zero":
                    only([])
                case "per_share":
                    only(["per_share", "minimum", "maximum_pct"])
                    let rate: Price? = decimal(map["per_share"], at: "\(at).per_share")
                    if map["per_share"] == nil { problems.append("\(at).per_share: missing (the rate per share)") }
                    model.commission = .perShare(
                        rate: rate ?? .zero, minimum: decimal(map["minimum"], at: "\(at).minimum") ?? .zero,
                        maximumPercent: decimal(map["maximum_pct"], at: "\(at).maximum_pct"))
                case "per_contract":
                    only(["per_contract", "cap_per_leg", "free_closing"])
                    let rate: Price? = decimal(map["per_contract"], at: "\(at).per_contract")
                    if map["per_contract"] == nil {
                        problems.append("\(at).per_contract: missing (the rate per contract)")
                    }
                    model.commission = .perContract(
                        rate: rate ?? .zero, capPerLeg: decimal(map["cap_per_leg"], at: "\(at).cap_per_leg"),
                        freeClosing: flag(map["free_closing"], at: "\(at).free_closing") ?? false)
                case let other?:
                    problems.append("\(at).model: '\(other)' is not zero, per_share or per_contract")
                case nil:
                    break
                }
            }
        }
        if let fees,
            let map = mapping(fees, at: "\(path).fees", keys: ["sec_fee_rate", "finra_taf_per_share", "finra_taf_max"])
        {
            model.secFeeRate = decimal(map["sec_fee_rate"], at: "\(path).fees.sec_fee_rate")
            model.finraTAFPerShare = decimal(map["finra_taf_per_share"], at: "\(path).fees.finra_taf_per_share")
            model.finraTAFMaximum = decimal(map["finra_taf_max"], at: "\(path).fees.finra_taf_max")
        }
        return model
    }
}
