"""Finding the daemon's socket and framing its lines."""

import json
import os
from typing import Any, Dict, Optional

MAX_LINE = 64 * 1024


def socket_path(path: Optional[str] = None) -> str:
    """``path``, else ``$GATEWAYD_SOCKET``, else ``./var/gatewayd.sock`` when it exists, else the system one."""
    if path:
        return path
    if os.environ.get("GATEWAYD_SOCKET"):
        return os.environ["GATEWAYD_SOCKET"]
    if os.path.exists("var/gatewayd.sock"):
        return "var/gatewayd.sock"
    return "/run/gatewayd/gatewayd.sock"


def encode(request_id: int, op: str, fields: Dict[str, Any]) -> bytes:
    body = dict(fields)
    body["id"] = request_id
    body["op"] = op
    return (json.dumps(body, separators=(",", ":")) + "\n").encode("utf-8")


def decode(line: bytes) -> Dict[str, Any]:
    return json.loads(line.decode("utf-8"))
