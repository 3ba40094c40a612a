import GatewayCore
import Yams

extension ConfigReader {
    /// `accounts[].reconcile`: how often the journal is compared with the broker outside starts and
    /// reconnects (`every_seconds`, default 60; 0 never), and what is done about an order the journal does
    /// not hold (`external_orders`, default adopt) and a position that does not match
    /// (`position_mismatch`, default halt): adopt, alert or halt.
    mutating func reconcile(_ node: Node?, at path: String) -> ReconcilePolicy {
        var policy = ReconcilePolicy()
        guard let node,
            let map = mapping(node, at: path, keys: ["every_seconds", "external_orders", "position_mismatch"])
        else { return policy }
        if let seconds = count(map["every_seconds"], at: "\(path).every_seconds") {
            policy.every = seconds == 0 ? nil : .seconds(seconds)
        }
        policy.externalOrders = action(map["external_orders"], at: "\(path).external_orders") ?? policy.externalOrders
        policy.positionMismatch =
            action(map["position_mismatch"], at: "\(path).position_mismatch") ?? policy.positionMismatch
        return policy
    }

    mutating func action(_ node: Node?, at path: String) -> ReconcileAction? {
        guard let text = string(node, at: path) else { return nil }
        guard let action = ReconcileAction(rawValue: text) else {
            problems.append("\(path): '\(text)' is not adopt, alert or halt")
            return nil
        }
        return action
    }
}
