/// What an alert is about. A destination names the categories it wants (`events:` in the config); `all`
/// there means every category below.
public enum AlertCategory: String, Sendable, Hashable, CaseIterable, Codable {
    /// An execution: some quantity of an order traded.
    case fill
    /// An order refused before the broker acknowledged it: by the pre-trade checks or by the broker.
    case reject
    /// An order the broker rejected after it had acknowledged it.
    case lateReject = "late_reject"
    /// Other order changes a trader is told about: canceled, expired, outcome unknown, a cancel or replace
    /// the broker refused.
    case order
    /// An account's trading state changed because a loss or drawdown limit was reached.
    case riskState = "risk_state"
    /// An operator halted or resumed trading (the kill switch, SIGUSR1, `gatewayctl halt`/`resume`).
    case killSwitch = "kill_switch"
    /// A broker connection went up or down.
    case broker
    /// The broker reported something the journal does not hold.
    case reconciliation
    /// gatewayd started or is stopping.
    case daemon

    /// The config's word for every category.
    public static let everything = "all"

    /// How several of this category read in a summary ("3 fills").
    func counted(_ count: Int) -> String {
        let noun: String
        switch self {
        case .fill: noun = count == 1 ? "fill" : "fills"
        case .reject: noun = count == 1 ? "rejection" : "rejections"
        case .lateReject: noun = count == 1 ? "late rejection" : "late rejections"
        case .order: noun = count == 1 ? "order change" : "order changes"
        case .riskState: noun = count == 1 ? "risk-state change" : "risk-state changes"
        case .killSwitch: noun = count == 1 ? "kill-switch change" : "kill-switch changes"
        case .broker: noun = count == 1 ? "broker connection change" : "broker connection changes"
        case .reconciliation: noun = count == 1 ? "reconciliation difference" : "reconciliation differences"
        case .daemon: noun = count == 1 ? "gateway notice" : "gateway notices"
        }
        return "\(count) \(noun)"
    }
}
