"""``orderpace bench`` from a normal install: the wheel carries the benchmarks package (not
the repository's committed results), and the bench extra names what the suite imports."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_wheel_ships_benchmarks_without_its_results() -> None:
    wheel = _pyproject()["tool"]["hatch"]["build"]["targets"]["wheel"]  # type: ignore[index]
    assert set(wheel["packages"]) == {"limiters", "engine", "strategies", "benchmarks"}
    assert "benchmarks/results" in wheel["exclude"]


def test_the_bench_extra_holds_the_baselines_dependency() -> None:
    extras = _pyproject()["project"]["optional-dependencies"]  # type: ignore[index]
    assert any(req.startswith("aiolimiter") for req in extras["bench"])
    # asyncio-throttle, the other real baseline, is a core dependency
    deps = _pyproject()["project"]["dependencies"]  # type: ignore[index]
    assert any(req.startswith("asyncio-throttle") for req in deps)


def test_make_bench_writes_into_the_repository() -> None:
    recipe = (ROOT / "Makefile").read_text().split("\nbench:", 1)[1].split("\n\n", 1)[0]
    assert "orderpace bench --out benchmarks/results" in recipe
