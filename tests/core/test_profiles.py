"""Hypothesis profiles decide how hard every property is tried (issue 10, item 8): no test
pins ``max_examples`` to a number, so ``HYPOTHESIS_PROFILE=ci`` / ``explore`` raise them all;
a costly property takes a share of the profile's count instead (``streams.examples``)."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import settings

from .streams import examples

TESTS = Path(__file__).resolve().parents[1]


def test_no_property_pins_its_number_of_examples() -> None:
    pinned = []
    for path in sorted(TESTS.rglob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"max_examples\s*=\s*\d", line) and "register_profile" not in line:
                pinned.append(f"{path.relative_to(TESTS)}:{n}: {line.strip()}")
    assert pinned == []


def test_a_share_of_the_profile_scales_with_it() -> None:
    explore = settings.get_profile("explore").max_examples
    ci = settings.get_profile("ci").max_examples
    assert examples(0.1, at_least=10, of=explore) == 300 > examples(0.1, at_least=10, of=ci)
    assert examples(0.5, at_least=25, of=explore) == 1500
    assert examples(0.1, at_least=10, of=settings.get_profile("default").max_examples) == 10
    assert examples(0.5) == round(0.5 * settings.default.max_examples) or examples(0.5) == 1
