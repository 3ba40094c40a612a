"""Errors the gateway answers with, as exceptions that carry the code, message and details."""

from typing import Any, Dict, List, Optional


class GatewayError(Exception):
    """The gateway refused a request. ``code`` is PROTOCOL.md's error code."""

    code = "error"

    def __init__(self, code: str, message: str, details: Any = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details

    @property
    def field(self) -> Optional[str]:
        """The request field at fault, when the gateway named one."""
        if isinstance(self.details, dict):
            return self.details.get("field")
        return None


class BadRequest(GatewayError):
    code = "bad_request"


class TooLarge(GatewayError):
    code = "too_large"


class UnknownOp(GatewayError):
    code = "unknown_op"


class UnknownAccount(GatewayError):
    code = "unknown_account"


class UnknownOrder(GatewayError):
    code = "unknown_order"


class InvalidState(GatewayError):
    code = "invalid_state"


class RiskRejected(GatewayError):
    """One or more pre-trade checks failed; ``checks`` lists each failing one."""

    code = "risk_rejected"

    @property
    def checks(self) -> List[Dict[str, str]]:
        return self.details if isinstance(self.details, list) else []


class Halted(GatewayError):
    code = "halted"


class NotSupported(GatewayError):
    code = "not_supported"


class BrokerUnavailable(GatewayError):
    code = "broker_unavailable"


class Unavailable(GatewayError):
    code = "unavailable"


class Unauthorized(GatewayError):
    code = "unauthorized"


class InternalError(GatewayError):
    code = "internal"


class ConnectionLost(GatewayError):
    """The socket could not be reached, or closed before the answer came."""

    code = "connection_lost"


ERRORS = {
    cls.code: cls
    for cls in (
        BadRequest, TooLarge, UnknownOp, UnknownAccount, UnknownOrder, InvalidState, RiskRejected, Halted,
        NotSupported, BrokerUnavailable, Unavailable, Unauthorized, InternalError,
    )
}


def error_from_answer(answer: Dict[str, Any]) -> GatewayError:
    """The exception for a failed answer (``{"ok": false, "error": {...}}``)."""
    error = answer.get("error") or {}
    code = error.get("code", "error")
    cls = ERRORS.get(code, GatewayError)
    return cls(code, error.get("message", "the gateway refused the request"), error.get("details"))
