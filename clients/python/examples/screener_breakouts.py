"""A screener plugin: turns a CSV of breakouts into signals with stops and targets.

The CSV is what a screener exports, one row per breakout:

    date,symbol,close,breakout_high,atr
    2026-11-25,AAPL,191.20,190.00,3.10

Each row becomes a signal: a limit entry at the breakout level, a
stop two ATRs below it and a target three ATRs above. The gateway sizes each from the account's policy,
checks it against the account's limits and places the entry with its stop and target.

    python examples/screener_breakouts.py breakouts.csv --account paper --strategy breakout20
"""

import argparse
import csv
import sys
from decimal import Decimal

from gateway_client import Client, GatewayError


def signals_from(rows, strategy):
    for row in rows:
        entry = Decimal(row["breakout_high"])
        atr = Decimal(row["atr"])
        yield dict(
            signal_id=f"{strategy}-{row['date']}-{row['symbol']}",  # the same breakout never trades twice
            symbol=row["symbol"], side="buy", entry_type="limit", entry_price=entry,
            stop_price=entry - 2 * atr, take_profit=entry + 3 * atr, strategy=strategy, tags=["breakout"])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--account", default="paper")
    parser.add_argument("--strategy", default="breakout20")
    parser.add_argument("--socket")
    options = parser.parse_args(argv)
    with open(options.csv, newline="") as handle, Client(options.socket) as gateway:
        for signal in signals_from(csv.DictReader(handle), options.strategy):
            try:
                result = gateway.signal(options.account, **signal)
            except GatewayError as error:
                print(f"{signal['symbol']}: refused ({error.code}): {error.message}")
                for check in getattr(error, "checks", []):
                    print(f"  - {check['check']}: {check['message']}")
                continue
            entry = result.entry
            print(f"{entry.symbol}: {entry.side} {entry.qty} @ {entry.limit_price} ({entry.status}), "
                  f"{len(result.orders) - 1} bracket orders{' (already sent)' if result.duplicate else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
