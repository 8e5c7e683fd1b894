"""One way to start the demo server in tests and benchmarks (``bench.appserver``): the server
picks its port (``serve_in_process``) or ``AppProcess`` retries a taken one; nobody else picks
a port and hopes it stays free."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([*ROOT.glob("tests/**/*.py"), *ROOT.glob("bench/*.py")])


@pytest.mark.parametrize("needle", ["socket.socket(", "server_port=", "free_port()"])
def test_only_the_helper_picks_ports(needle: str) -> None:
    here = Path(__file__).resolve()
    found = [str(p.relative_to(ROOT)) for p in FILES
             if p.resolve() != here and needle in p.read_text(encoding="utf-8")]
    assert found in ([], ["bench/appserver.py"])
