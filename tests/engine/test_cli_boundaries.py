"""The command line's boundaries: output directories checked before a run, -v after the
subcommand, the duration cap, the bench command without its extra."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import structlog

import engine.run.backtest
import engine.run.report
from engine.cli import command as cli


@pytest.fixture(autouse=True)
def _restore_structlog() -> object:
    """``cli.main`` configures structlog for the process; leave other tests unaffected."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture
def no_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any backtest that starts fails the test: the error must come before the run."""

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("the backtest ran")

    monkeypatch.setattr(engine.run.backtest, "run_backtest", refuse)


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run ``argv``; expect argparse's usage error (exit 2); return stderr."""
    with pytest.raises(SystemExit) as e:
        cli.main(list(argv))
    assert e.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    return err


def test_report_into_an_existing_file_is_refused_before_the_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, no_run: None,
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    err = usage_error(capsys, "backtest", "--report", str(afile))
    assert f"orderpace backtest: error: argument --report: '{afile}' exists and is not a " \
           "directory" in err
    assert afile.read_text() == "keep me"


def test_report_under_a_file_is_refused_before_the_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, no_run: None,
) -> None:
    (tmp_path / "afile").write_text("")
    err = usage_error(capsys, "backtest", "--report", str(tmp_path / "afile" / "sub"))
    assert "argument --report: cannot create directory" in err
    assert "Not a directory" in err or "No such file" in err


def test_report_directory_is_created_before_the_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / "a" / "b"
    seen: list[bool] = []

    def check(*_a: object, **_k: object) -> None:
        seen.append(target.is_dir())
        raise engine.run.backtest.BacktestError("stop here")

    monkeypatch.setattr(engine.run.backtest, "run_backtest", check)
    assert cli.main(["backtest", "--report", str(target)]) == 2
    assert seen == [True]
    assert "orderpace backtest: error: stop here" in capsys.readouterr().err


def test_a_report_that_fails_after_the_run_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def full(*_a: object, **_k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(engine.run.report, "write_report", full)
    code = cli.main(["backtest", "--strategy", "grid", "--duration", "5", "--report",
                     str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    assert f"orderpace backtest: error: cannot write the report to {tmp_path}: " in err
    assert "No space left on device" in err and "rate-limit errors" in out  # the table first


def test_duration_above_thirty_days_is_refused(capsys: pytest.CaptureFixture[str],
                                               no_run: None) -> None:
    assert cli.main(["backtest", "--duration", "1e12"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("orderpace backtest: error: duration must be at most 2,592,000 "
                          "seconds (30 days)")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "verbosity"),
    [
        (["strategies"], 0),
        (["-v", "strategies"], 1),
        (["strategies", "-v"], 1),
        (["strategies", "-vv"], 2),
        (["-v", "strategies", "--verbose"], 2),
        (["strategies", "--json", "-v"], 1),
    ],
)
def test_verbose_goes_before_or_after_the_subcommand(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str],
    verbosity: int,
) -> None:
    seen: list[int] = []
    monkeypatch.setattr(cli, "_configure_logging", seen.append)
    assert cli.main(argv) == 0
    assert seen == [verbosity]
    capsys.readouterr()


def test_backtest_vv_logs_the_engines_decisions(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["backtest", "-vv", "--strategy", "grid", "--duration", "5"]) == 0
    err = capsys.readouterr().err
    assert "decision" in err and "hid=" in err
    assert cli.main(["backtest", "-v", "--strategy", "grid", "--duration", "5"]) == 0
    assert "decision" not in capsys.readouterr().err


# -- bench ------------------------------------------------------------------------------


@pytest.fixture
def no_suite(monkeypatch: pytest.MonkeyPatch) -> None:
    import benchmarks.suite

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("the bench suite ran")

    monkeypatch.setattr(benchmarks.suite, "run_suite", refuse)


def test_bench_out_into_an_existing_file_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, no_suite: None,
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    err = usage_error(capsys, "bench", "--quick", "--out", str(afile))
    assert "orderpace bench: error: argument --out: " in err and "not a directory" in err


@pytest.mark.parametrize("jobs", ["100000000", "257", "0"])
def test_bench_jobs_out_of_range_is_refused_before_the_suite(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, no_suite: None, jobs: str,
) -> None:
    """``--jobs 100000000`` used to start the suite with that many worker processes."""
    err = usage_error(capsys, "bench", "--quick", "--jobs", jobs, "--out", str(tmp_path))
    assert "argument --jobs: expected a number of processes >= 1 and <= 256" in err


def test_bench_default_directory_is_under_the_current_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    no_suite: None,
) -> None:
    from benchmarks.cli import DEFAULT_OUT

    assert not DEFAULT_OUT.is_absolute() and DEFAULT_OUT.as_posix() == "benchmarks/results"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "benchmarks").write_text("")  # so the default cannot be created
    assert cli.main(["bench", "--quick"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("orderpace bench: error: cannot create directory 'benchmarks/results'")
    assert "choose one with --out" in err


def test_bench_without_aiolimiter_says_which_extra_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    for name in [m for m in sys.modules if m.startswith("benchmarks.") and m != "benchmarks.cli"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "aiolimiter", None)  # import aiolimiter now fails
    assert cli.main(["bench", "--quick", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == ("orderpace bench: error: the bench suite needs aiolimiter; install the "
                   "bench extra: pip install 'orderpace[bench]'\n")
