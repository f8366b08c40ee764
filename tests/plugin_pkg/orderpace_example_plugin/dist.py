"""Writing the example plugin's distribution metadata, as pip would on install."""

from __future__ import annotations

from pathlib import Path

#: The directory holding the ``orderpace_example_plugin`` package.
SOURCE_ROOT = Path(__file__).resolve().parents[1]

DIST_NAME = "orderpace-example-plugin"


def install(target: Path, entry_points: dict[str, str] | None = None) -> Path:
    """Write ``orderpace_example_plugin-1.0.dist-info`` into ``target``; return it.

    ``entry_points`` (name -> ``module:attribute``) defaults to the plugin's own
    ``example = orderpace_example_plugin:Example``.  Put ``target`` and
    :data:`SOURCE_ROOT` on ``sys.path`` (or ``PYTHONPATH``) for the plugin to be found.
    """
    eps = entry_points if entry_points is not None else {
        "example": "orderpace_example_plugin:Example"
    }
    info = target / "orderpace_example_plugin-1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {DIST_NAME}\nVersion: 1.0\n"
        "Summary: example orderpace strategy plugin (tests)\n"
    )
    lines = ["[orderpace.strategies]"] + [f"{k} = {v}" for k, v in eps.items()]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return info
