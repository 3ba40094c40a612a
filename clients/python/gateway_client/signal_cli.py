"""``gateway-signal``: reads signals from standard input and sends each, printing each result.

Input is JSON lines (one signal object per line, with PROTOCOL.md's fields) or CSV with a header row —
whichever the first line looks like. CSV columns are the signal's fields (``signal_id``, ``symbol``,
``side``, ``entry_type``, ``entry_price``, ``stop_price``, ``atr``, ``atr_multiple``, ``take_profit``,
``risk_fraction``, ``qty``, ``tif``, ``strategy``, ``tags`` separated by ``;``, ``account``); empty cells
are left out. Each result is printed as one JSON line: ``{"line": N, "ok": true, "orders": [...]}`` or
``{"line": N, "ok": false, "code": ..., "message": ..., "details": ...}``.
Exit status: 0 when every signal was accepted, 1 when any was refused, 3 when gatewayd is unreachable.
"""

import argparse
import csv
import io
import json
import sys
from typing import Any, Dict, Iterator, List, Optional, TextIO, Tuple

from .client import Client
from .errors import ConnectionLost, GatewayError

FIELDS = ("signal_id", "symbol", "side", "entry_type", "entry_price", "stop_price", "atr", "atr_multiple",
          "take_profit", "risk_fraction", "qty", "tif", "strategy", "tags", "account")


def read_signals(stream: TextIO, form: str = "auto") -> Iterator[Tuple[int, Optional[Dict[str, Any]], str]]:
    """Yields (line number, signal fields or None, problem) for each input row."""
    text = stream.read()
    first = next((line for line in text.splitlines() if line.strip()), "")
    if form == "auto":
        form = "jsonl" if first.lstrip().startswith("{") else "csv"
    if form == "jsonl":
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as error:
                yield number, None, f"not JSON: {error}"
                continue
            if not isinstance(value, dict):
                yield number, None, "each line must be a JSON object"
                continue
            yield number, value, ""
        return
    reader = csv.DictReader(io.StringIO(text))
    unknown = [name for name in (reader.fieldnames or []) if name and name.strip() not in FIELDS]
    if unknown:
        yield 1, None, f"unknown CSV columns: {', '.join(unknown)} (known: {', '.join(FIELDS)})"
        return
    for row in reader:
        values = {k.strip(): v.strip() for k, v in row.items() if k and v is not None and v.strip() != ""}
        if "tags" in values:
            values["tags"] = [t for t in values["tags"].split(";") if t]
        yield reader.line_num, values, ""


def to_arguments(values: Dict[str, Any], account: Optional[str], strategy: Optional[str]) -> Dict[str, Any]:
    """Signal fields (flat, or with PROTOCOL.md's ``entry`` object) as ``Client.signal`` arguments."""
    values = dict(values)
    entry = values.pop("entry", None)
    if isinstance(entry, dict):
        values.setdefault("entry_type", entry.get("type", "market"))
        if "price" in entry:
            values.setdefault("entry_price", entry["price"])
    values.setdefault("account", account)
    if strategy is not None:
        values.setdefault("strategy", strategy)
    unknown = [k for k in values if k not in FIELDS]
    if unknown:
        raise GatewayError("bad_request", f"unknown signal fields: {', '.join(unknown)}", {"field": unknown[0]})
    for required in ("account", "signal_id", "symbol", "side"):
        if not values.get(required):
            raise GatewayError("bad_request", f"missing field '{required}'", {"field": required})
    return values


def main(argv: Optional[List[str]] = None, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="gateway-signal", description=__doc__.splitlines()[0])
    parser.add_argument("--socket", help="gatewayd's socket (default: $GATEWAYD_SOCKET, ./var/gatewayd.sock)")
    parser.add_argument("--account", help="the account for signals that name none (default: the daemon's first)")
    parser.add_argument("--strategy", help="the strategy for signals that name none")
    parser.add_argument("--format", choices=("auto", "jsonl", "csv"), default="auto")
    options = parser.parse_args(argv)
    refused = False
    try:
        with Client(options.socket) as gateway:
            account = options.account or (gateway.hello().get("accounts") or [None])[0]
            for number, values, problem in read_signals(stdin, options.format):
                result: Dict[str, Any] = {"line": number}
                try:
                    if values is None:
                        raise GatewayError("bad_request", problem)
                    outcome = gateway.signal(**to_arguments(values, account, options.strategy))
                    result.update(ok=True, duplicate=outcome.duplicate, orders=outcome.raw.get("orders", []),
                                  sizing=outcome.sizing)
                except ConnectionLost:
                    raise
                except GatewayError as error:
                    refused = True
                    result.update(ok=False, code=error.code, message=error.message, details=error.details)
                stdout.write(json.dumps(result, separators=(",", ":")) + "\n")
                stdout.flush()
    except ConnectionLost as error:
        sys.stderr.write(f"gateway-signal: {error.message}\n")
        return 3
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
