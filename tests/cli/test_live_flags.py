"""``orderpace live``'s flags: a bad value is a one-line usage error (exit 2) naming the
flag, before anything is sent -- never a traceback (issue 10, items 1 and 2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from engine.cli import command as cli
from engine.exchange.server import DEMO_KEY, DEMO_SECRET


@pytest.fixture(autouse=True)
def _credentials_and_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", DEMO_SECRET)
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run ``orderpace live ARGV``; expect exit 2 and one line on stderr; return it."""
    try:
        code = cli.main(["live", "--strategy", "burst", "--duration", "1", *argv])
    except SystemExit as e:  # argparse's own errors
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == "" and "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith(("usage:", " "))]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("port", ["99999", "65536", "-1", "0"])
def test_a_base_url_port_out_of_range_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], port: str,
) -> None:
    err = usage_error(capsys, "--base-url", f"http://127.0.0.1:{port}")
    assert err == (f"orderpace live: error: base URL port must be 1 to 65535, got {port} in "
                   f"'http://127.0.0.1:{port}'")


@pytest.mark.parametrize(("argv", "flag", "largest"), [
    (["--decay-step", "60"], "--decay-step: 60 s", "36 s"),
    (["--decay-step", "2000"], "--decay-step: 2000 s", "36 s"),
    (["--decay-step", "1e308"], "--decay-step: 1e+308 s", "36 s"),
    (["--decay-step", "36.001"], "--decay-step: 36.001 s", "36 s"),
    (["--jitter-ms", "60000"], "--jitter-ms: 60000 ms", "31950 ms"),
    (["--jitter-ms", "60000", "--decay-step", "2"], "--jitter-ms: 60000 ms",
     "with --decay-step 2 is 35950 ms"),
    (["--tier", "pro", "--decay-step", "30"], "--decay-step: 30 s", "18 s"),
    (["--tier", "starter", "--decay-step", "40"], "--decay-step: 40 s", "39.393 s"),
])
def test_a_decay_step_or_jitter_too_large_for_the_tier_names_the_largest(
    capsys: pytest.CaptureFixture[str], argv: list[str], flag: str, largest: str,
) -> None:
    err = usage_error(capsys, "--base-url", "http://127.0.0.1:9", *argv)
    assert err.startswith(f"orderpace live: error: argument {flag} is too large for the ")
    assert "leaving less than its costliest request" in err
    assert err.endswith(largest)


@pytest.mark.parametrize(("argv", "message"), [
    (["--tier", "gold"], "argument --tier: expected a tier (starter, intermediate, pro)"),
    (["--seed", "1e3"], "argument --seed: expected an integer seed, got '1e3'"),
    (["--poll-interval", "0"], "argument --poll-interval: expected a number of seconds > 0"),
    (["--timeout", "nan"], "argument --timeout: expected a number of seconds > 0"),
    (["--jitter-ms", "-1"], "argument --jitter-ms: expected a number >= 0"),
])
def test_other_bad_flags_are_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str,
) -> None:
    assert message in usage_error(capsys, "--base-url", "http://127.0.0.1:9", *argv)
