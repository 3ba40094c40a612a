"""A backtester hook: forward-tests a strategy on the paper account and prints its report.

It replays a price series through the paper simulator (the `quote` verb), lets a simple moving-average
crossover decide, sends its orders through the gateway — so sizing, risk checks and the journal are
exactly those of live trading — follows the fills from the event stream, and prints the gateway's
performance report for the strategy.

    python examples/forward_test.py prices.csv --symbol SPY --strategy sma-cross

The CSV has `date,close` rows (any screener's or yfinance's export will do).
"""

import argparse
import csv
import sys
from decimal import Decimal

from gateway_client import Client


def crossover_orders(closes, fast=3, slow=5):
    """Yields (index, side) where the fast average crosses the slow one."""
    position = 0
    for i in range(slow, len(closes) + 1):
        window = closes[:i]
        fast_avg = sum(window[-fast:]) / fast
        slow_avg = sum(window[-slow:]) / slow
        if fast_avg > slow_avg and position == 0:
            position = 1
            yield i - 1, "buy"
        elif fast_avg < slow_avg and position == 1:
            position = 0
            yield i - 1, "sell"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--account", default="paper")
    parser.add_argument("--symbol", default="SPY")
    parser.add_argument("--strategy", default="sma-cross")
    parser.add_argument("--qty", default="10")
    parser.add_argument("--socket")
    options = parser.parse_args(argv)
    with open(options.csv, newline="") as handle:
        closes = [Decimal(row["close"]) for row in csv.DictReader(handle)]
    decisions = dict(crossover_orders(closes))
    with Client(options.socket) as gateway:
        start = gateway.status()["seq"]
        fills = gateway.subscribe(after_seq=start, kinds=["fill"])
        for i, close in enumerate(closes):
            gateway.quote(options.symbol, bid=close, ask=close, last=close)
            side = decisions.get(i)
            if side is None:
                continue
            gateway.submit(options.account, options.symbol, side, options.qty, strategy=options.strategy,
                           tags=["forward-test"])
            fill = next(fills).fill  # the paper broker fills a market order at the quote in force
            print(f"{side} {fill.qty} {fill.symbol} @ {fill.price}")
        report = gateway.report(account=options.account, strategy=options.strategy)
    print(f"\n{options.strategy}: {report.trades} trades, win rate {report.win_rate}, "
          f"expectancy {report.expectancy}, profit factor {report.profit_factor}, net {report.net_pnl}, "
          f"max drawdown {report.max_drawdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
