"""The README's Python examples run as written and print what the README says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples() -> None:
    assert len(python_blocks()) >= 2


@pytest.mark.parametrize("index", range(2))
def test_readme_example_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    code = python_blocks()[index]
    exec(compile(code, f"README.md[python block {index}]", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    # every "# <expected>" comment on a print line is checked against the output
    expected = [m.group(1).split("(")[0].strip() for m in
                re.finditer(r"^print\(.*?\)\s+#\s*(.+)$", code, flags=re.M)]
    for want in expected:
        assert want in out, (want, out)


def test_readme_opens_with_the_two_commands() -> None:
    text = README.read_text()
    first_block = re.search(r"```sh\n(.*?)```", text, flags=re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make backtest", "make test"]
