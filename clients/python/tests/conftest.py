"""Starts the real gatewayd (paper broker, durable journal) on a temporary socket for each test."""

import os
import signal
import subprocess
import threading
from pathlib import Path
from typing import List, Optional

import pytest

REPO = Path(__file__).resolve().parents[3]


def gatewayd_binary() -> str:
    folder = os.environ.get("GATEWAY_BIN_DIR") or str(REPO / ".build" / "debug")
    binary = Path(folder) / "gatewayd"
    if not binary.exists():
        pytest.fail(f"no gatewayd at {binary}: build it with `swift build` or set GATEWAY_BIN_DIR")
    return str(binary)


class Daemon:
    """One gatewayd with its files in a temporary folder; `restart()` keeps the files."""

    def __init__(self, folder: Path, risk: Optional[List[str]] = None, ledger: Optional[str] = None):
        self.folder = folder
        self.socket = str(folder / "gw.sock")
        self.config = folder / "gatewayd.yaml"
        risk_lines = "\n".join("      " + line for line in (risk or []))
        self.config.write_text(
            f"socket: {self.socket}\n"
            "metrics_listen: off\n"
            f"journal: {folder / 'journal.sqlite'}\n"
            "log_level: info\n"
            "accounts:\n"
            "  - name: paper\n"
            "    broker: paper\n"
            '    starting_cash: "100000"\n'
            "    paper:\n"
            f"      ledger: {ledger or folder / 'ledger.jsonl'}\n"
            "      calendar: always_open\n"
            + ("    risk:\n" + risk_lines + "\n" if risk else "")
            + "    sizing:\n"
            "      method: fixed_fractional\n"
            '      risk_fraction: "0.01"\n'
        )
        self.process: Optional[subprocess.Popen] = None
        self.log: List[str] = []

    def start(self) -> None:
        self.process = subprocess.Popen(
            [gatewayd_binary(), "--config", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True)
        # Ready when the control server says it listens (the daemon logs to stderr).
        for line in self.process.stderr:
            self.log.append(line)
            if "[ControlServer] listening" in line:
                break
        else:
            raise RuntimeError("gatewayd exited before listening:\n" + "".join(self.log))
        threading.Thread(target=self._drain, args=(self.process,), daemon=True).start()

    def _drain(self, process: subprocess.Popen) -> None:
        for line in process.stderr:
            self.log.append(line)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process is None:
            return 0
        self.process.send_signal(sig)
        code = self.process.wait(timeout=60)
        self.process = None
        return code

    def restart(self) -> None:
        assert self.stop() == 0
        self.start()


@pytest.fixture
def daemon(tmp_path):
    gateway = Daemon(tmp_path, risk=['max_order_qty: "1000"', "max_open_orders: 50"])
    gateway.start()
    yield gateway
    gateway.stop()
