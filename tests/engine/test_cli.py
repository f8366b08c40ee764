"""The ``orderpace`` command line: backtest output, errors, reports, plugins."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import structlog

from engine.cli import command as cli
from engine.cli.backtest import ProgressBar
from engine.run.backtest import Progress

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_ROOT = ROOT / "tests" / "plugin_pkg"
sys.path.insert(0, str(PLUGIN_ROOT))
from orderpace_example_plugin import dist  # noqa: E402


@pytest.fixture(autouse=True)
def _restore_structlog() -> object:
    """``cli.main`` configures structlog for the process; leave other tests unaffected."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def last_json(out: str) -> dict[str, object]:
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_backtest_json_is_the_last_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "backtest", "--duration", "120", "--json")
    assert code == 0 and err == ""
    d = last_json(out)
    for key in ("intents", "sent", "outcomes", "rate_limit_errors", "budget_utilization",
                "simulated_seconds", "wall_seconds"):
        assert key in d
    assert d["strategy"] == "market-maker" and d["tier"] == "intermediate"
    assert d["pairs"] == ["XBT/USD", "ETH/USD"] and d["seed"] == 1
    assert d["rate_limit_errors"] == 0


def test_backtest_options_reach_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "backtest", "--strategy", "burst", "--tier", "Pro",
                           "--pairs", "SOL/USD", "--duration", "30", "--seed", "9",
                           "--set", "orders_per_second=5", "--set", "cancel-age=2..4",
                           "--json")
    d = last_json(out)
    assert code == 0
    assert (d["strategy"], d["tier"], d["pairs"], d["seed"], d["duration"]) == (
        "burst", "pro", ["SOL/USD"], 9, 30.0)
    assert d["params"]["orders_per_second"] == 5.0  # type: ignore[index]
    assert d["params"]["cancel_age"] == [2.0, 4.0]  # type: ignore[index]


def test_backtest_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "backtest", "--strategy", "grid", "--duration", "60")
    assert code == 0 and err == ""  # stderr is not a terminal: no progress bar
    for needle in ("grid on XBT/USD, ETH/USD", "rate-limit errors  0", "utilization",
                   "overall", "requests"):
        assert needle in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--strategy", "nope"], "unknown strategy 'nope'; available: burst, grid, "),
        (["--set", "spread_bps=wide"], "parameter 'spread_bps' expects a number (float)"),
        (["--set", "spreed=1"], "strategy 'market-maker' has no parameter 'spreed'"),
        (["--set", "spread_bps=-2"], "parameter 'spread_bps' expects a value > 0"),
        (["--pairs", "XBT/USD,DOGE/USD"], "unknown pair 'DOGE/USD'"),
    ],
)
def test_bad_backtest_arguments(capsys: pytest.CaptureFixture[str], argv: list[str],
                                message: str) -> None:
    code, out, err = run_cli(capsys, "backtest", *argv)
    assert code == 2 and out == ""
    assert err.startswith("orderpace backtest: error: ") and message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--duration", "-5"], "expected a number of seconds > 0"),
        (["--duration", "soon"], "expected a number of seconds"),
        (["--tier", "gold"], "expected a tier (starter, intermediate, pro), got 'gold'"),
        (["--seed", "x"], "expected an integer seed"),
        (["--set", "novalue"], "expected key=value"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_argument_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str],
                                message: str) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["backtest", *argv])
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_a_subcommand_registered_from_another_module(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    def configure(p: object) -> None:
        p.add_argument("--port", type=int)  # type: ignore[attr-defined]

    def run(args: object) -> int:
        seen.append(args.port)  # type: ignore[attr-defined]
        return 0

    monkeypatch.setitem(cli._REGISTERED, "simulate-exchange",
                        cli.Subcommand("simulate-exchange", "serve", configure, run))
    assert run_cli(capsys, "simulate-exchange", "--port", "8080")[0] == 0
    assert seen == [8080]


def test_strategies_lists_builtins_and_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "strategies")
    assert code == 0
    for name in ("market-maker", "twap", "grid", "burst"):
        assert f"{name}  (built-in)" in out
    assert "spread_bps=8.0" in out and "[float]" in out and "cancel_age=1.0..30.0" in out
    code, out, _ = run_cli(capsys, "strategies", "--json")
    d = json.loads(out)
    assert d["twap"]["params"][0] == {"name": "side", "type": "buy|sell", "default": "buy",
                                      "help": "side of the parent order"}


def test_plugin_is_listed_and_runs(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    dist.install(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out, _ = run_cli(capsys, "strategies")
    assert f"example  (plugin from {dist.DIST_NAME})" in out and "interval=20.0" in out
    code, out, _ = run_cli(capsys, "backtest", "--strategy", "example", "--duration", "100",
                           "--set", "interval=10", "--json")
    d = last_json(out)
    assert code == 0 and d["rate_limit_errors"] == 0 and d["failure"] is None
    assert d["strategy_report"] == {"example": {"placed": 22}}  # 11 cycles x 2 pairs


def test_report_writes_its_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_dir = tmp_path / "report"
    code, out, err = run_cli(capsys, "backtest", "--duration", "90", "--report",
                             str(out_dir), "--json")
    assert code == 0
    d = last_json(out)
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["intents"] == d["intents"] and summary["settings"]["decay_step"] == 2.0
    with open(out_dir / "requests.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= d["sent"] > 0  # type: ignore[operator]
    # the cost and levels are the engine's estimates at send time, and are named so
    assert list(rows[0]) == ["time", "pair", "action", "engine_cost", "engine_level_before",
                             "engine_level_after", "outcome", "error"]
    charts = ["trading_counter.png", "api_counter.png", "queue_depth.png", "queue_wait.png"]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "pip install 'orderpace[report]'" in err
        assert not any((out_dir / c).exists() for c in charts)
    else:
        for c in charts:
            assert (out_dir / c).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"report written to {out_dir}" in err  # with --json, notes go to stderr


def test_report_without_matplotlib(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import engine.run.report

    real = importlib.import_module

    def no_matplotlib(name: str, package: str | None = None) -> object:
        if name.split(".")[0] == "matplotlib":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real(name, package)

    monkeypatch.setattr(engine.run.report.importlib, "import_module", no_matplotlib)
    code, out, err = run_cli(capsys, "backtest", "--duration", "30", "--report", str(tmp_path))
    assert code == 0  # the data files are complete; only the charts are missing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["requests.csv", "summary.json"]
    assert "charts skipped" in err and "pip install 'orderpace[report]'" in err
    assert out.rstrip().endswith("requests.csv")  # the table first, then where the report is


def test_progress_bar_draws_and_clears() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, every=0.0)
    bar(Progress(1800.0, 3600.0, 1234, 0, False))
    bar(Progress(3600.0, 3600.0, 2000, 0, True))
    bar.close()
    text = stream.getvalue()
    assert "[###############...............]  50% 1,800/3,600 s" in text
    assert "intents 1,234" in text and "draining" in text and text.endswith("\r\x1b[K")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(extra)
    return env


def test_cli_subprocess_is_deterministic_across_hash_seeds() -> None:
    argv = [sys.executable, "-m", "engine", "backtest", "--strategy", "burst", "--duration",
            "60", "--seed", "5", "--json"]
    runs = []
    for hash_seed in ("1", "2"):
        p = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=120,
                           env=_env(PYTHONHASHSEED=hash_seed), check=False)
        assert p.returncode == 0, p.stderr
        d = last_json(p.stdout)
        d.pop("wall_seconds")
        runs.append(d)
    assert runs[0] == runs[1]


def test_cli_subprocess_finds_an_installed_plugin(tmp_path: Path) -> None:
    dist.install(tmp_path)
    path = os.pathsep.join([str(tmp_path), str(PLUGIN_ROOT), str(ROOT)])
    p = subprocess.run(
        [sys.executable, "-m", "engine", "backtest", "--strategy", "example", "--duration",
         "30", "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=120, env=_env(PYTHONPATH=path),
        check=False,
    )
    assert p.returncode == 0, p.stderr
    assert last_json(p.stdout)["strategy"] == "example"
