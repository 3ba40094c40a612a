"""gateway-signal and the two examples, against the real gatewayd."""

import io
import json
import subprocess
import sys
from pathlib import Path

from gateway_client import Client
from gateway_client.signal_cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_cli(daemon, text, *args):
    out = io.StringIO()
    code = main(["--socket", daemon.socket, *args], stdin=io.StringIO(text), stdout=out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_gateway_signal_reads_json_lines(daemon):
    Client(daemon.socket).quote("AAPL", last="190")
    text = "\n".join([
        json.dumps({"signal_id": "j-1", "symbol": "AAPL", "side": "buy", "entry": {"type": "limit", "price": "190"},
                    "stop_price": "185", "take_profit": "200"}),
        "",
        json.dumps({"signal_id": "j-2", "symbol": "AAPL", "side": "buy", "qty": 5000, "entry_type": "limit",
                    "entry_price": 190}),
        "not json",
        json.dumps({"signal_id": "j-1", "symbol": "AAPL", "side": "buy", "entry": {"type": "limit", "price": "190"},
                    "stop_price": "185", "take_profit": "200"}),
    ])
    code, results = run_cli(daemon, text, "--strategy", "cli")
    assert code == 1
    assert [r["line"] for r in results] == [1, 3, 4, 5]
    assert results[0]["ok"] and len(results[0]["orders"]) == 3 and results[0]["orders"][0]["qty"] == "200"
    assert results[0]["orders"][0]["strategy"] == "cli"
    assert results[1]["code"] == "risk_rejected" and results[1]["details"][0]["check"] == "max_order_qty"
    assert results[2]["code"] == "bad_request" and "not JSON" in results[2]["message"]
    assert results[3]["ok"] and results[3]["duplicate"]


def test_gateway_signal_reads_csv(daemon):
    Client(daemon.socket).quote("MSFT", last="400")
    text = ("signal_id,symbol,side,entry_type,entry_price,stop_price,tags\n"
            "c-1,MSFT,buy,limit,400,390,breakout;csv\n"
            "c-2,MSFT,buy,limit,400,410,\n")
    code, results = run_cli(daemon, text)
    assert code == 1
    assert results[0]["ok"] and results[0]["orders"][0]["tags"] == ["breakout", "csv"]
    assert results[1]["code"] == "bad_request" and results[1]["details"]["field"] == "stop_price"
    code, results = run_cli(daemon, "signal_id,symbol,colour\nx,MSFT,red\n")
    assert code == 1 and "unknown CSV columns: colour" in results[0]["message"]


def test_gateway_signal_says_when_the_daemon_is_not_there(tmp_path):
    out = io.StringIO()
    assert main(["--socket", str(tmp_path / "none.sock")], stdin=io.StringIO(""), stdout=out) == 3


def test_the_screener_example_places_brackets(daemon, tmp_path):
    Client(daemon.socket).quote("AAPL", last="191")
    breakouts = tmp_path / "breakouts.csv"
    breakouts.write_text("date,symbol,close,breakout_high,atr\n2026-11-25,AAPL,191.20,190.00,2.50\n")
    run = subprocess.run([sys.executable, str(EXAMPLES / "screener_breakouts.py"), str(breakouts), "--socket",
                          daemon.socket], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "AAPL: buy 200 @ 190" in run.stdout and "2 bracket orders" in run.stdout


def test_the_forward_test_example_prints_the_report(daemon, tmp_path):
    prices = tmp_path / "prices.csv"
    closes = [100, 99, 98, 97, 96, 98, 101, 104, 106, 105, 102, 99, 96, 95]
    prices.write_text("date,close\n" + "".join(f"2026-11-{i + 1:02d},{c}\n" for i, c in enumerate(closes)))
    run = subprocess.run([sys.executable, str(EXAMPLES / "forward_test.py"), str(prices), "--socket",
                          daemon.socket], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "buy 10 SPY" in run.stdout and "sell 10 SPY" in run.stdout
    assert "sma-cross: 1 trades" in run.stdout


def test_the_installed_gateway_signal_command(daemon):
    command = Path(sys.executable).parent / "gateway-signal"
    if not command.exists():
        import pytest
        pytest.skip("gateway-signal is installed by `pip install clients/python` (scripts/test does)")
    Client(daemon.socket).quote("AAPL", last="190")
    line = json.dumps({"signal_id": "cmd-1", "symbol": "AAPL", "side": "buy", "qty": "3"})
    run = subprocess.run([str(command), "--socket", daemon.socket], input=line + "\n", capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["orders"][0]["qty"] == "3"
