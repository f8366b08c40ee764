"""New client order ids (``cl_ord_id``), and the mark that makes them a journal's own.

Kraken refuses ``userref`` together with ``cl_ord_id`` on an add (the simulated exchange
does too), and the engine needs the ``cl_ord_id`` to follow every order.  So the mark that
tells orderpace's orders from ones placed by hand is carried *in* the ``cl_ord_id``:

* :data:`MARK` -- 8 lowercase hex digits (32 bits; the journal derives them from the account
  and its own path: :func:`engine.journal.marks.mark_for`), or None: no mark.  A context
  variable: set where a run starts, it holds for the tasks started after it;
* :func:`new_cl_ord_id` -- a random UUID (version 4) in Kraken's long form; with a mark set,
  its first 8 hex digits (the ``time_low`` field: no version or variant bits) are the
  mark, leaving 90 random bits;
* :func:`carries` -- whether a ``cl_ord_id`` bears a given mark.  A UUID made elsewhere
  bears it by chance with odds 2**-32; free-text ids (18 characters at most) never do.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

__all__ = ["MARK", "carries", "check_mark", "new_cl_ord_id"]

#: The mark new cl_ord_ids carry (8 lowercase hex digits), or None.
MARK: ContextVar[str | None] = ContextVar("orderpace_cl_ord_id_mark", default=None)

_MARK = re.compile(r"[0-9a-f]{8}")
_LONG = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}")


def check_mark(mark: str) -> str:
    """``mark`` if it is 8 lowercase hex digits; ValueError otherwise."""
    if not isinstance(mark, str) or not _MARK.fullmatch(mark):
        raise ValueError(f"a cl_ord_id mark is 8 lowercase hex digits, got {mark!r}")
    return mark


def new_cl_ord_id() -> str:
    """A new ``cl_ord_id``: a UUID v4, its first 8 hex digits the :data:`MARK` if set."""
    text = str(uuid.uuid4())
    mark = MARK.get()
    return text if mark is None else mark + text[8:]


def carries(cl_ord_id: object, mark: str) -> bool:
    """Whether ``cl_ord_id`` is a long-form UUID whose first 8 hex digits are ``mark``."""
    return (isinstance(cl_ord_id, str) and cl_ord_id[:8].lower() == mark
            and _LONG.fullmatch(cl_ord_id) is not None)
