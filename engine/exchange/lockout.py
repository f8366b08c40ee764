"""What Kraken does to a key that keeps calling past its API limit (kraken-rate-limits.md s.1).

A call refused with ``EAPI:Rate limit exceeded`` restricts the key "for a few seconds, or
longer if calls continue"; repeated offences lead to ``EGeneral:Temporary lockout``, about
15 minutes.  The referee models that escalation per key:

* an *offence* is a private call refused for the key's API counter;
* offences count up until the key makes a call that is admitted (which resets the count);
* the ``after``-th offence in a row locks the key out for ``seconds`` (clock seconds):
  every private call of the key is then refused with ``EGeneral:Temporary lockout``,
  changing nothing (no charge, no nonce consumed).  Calls during a lockout do not extend
  it; when it ends the count starts again from 0.

``after`` is undocumented by Kraken: :data:`DEFAULT_LOCKOUT_AFTER` (10 refused calls in a
row) is this simulator's choice; ``after = 0`` turns lockouts off.
:data:`DEFAULT_LOCKOUT_SECONDS` is Kraken's "about 15 minutes".
"""

from __future__ import annotations

__all__ = ["DEFAULT_LOCKOUT_AFTER", "DEFAULT_LOCKOUT_SECONDS", "Lockout"]

#: Refused calls in a row that lock a key out (undocumented by Kraken: chosen here).
DEFAULT_LOCKOUT_AFTER = 10
#: How long a lockout lasts (s): Kraken's "about 15 minutes".
DEFAULT_LOCKOUT_SECONDS = 900.0


class Lockout:
    """One key's offences and lockout (see the module docstring)."""

    __slots__ = ("after", "offences", "seconds", "until")

    def __init__(self, after: int = DEFAULT_LOCKOUT_AFTER,
                 seconds: float = DEFAULT_LOCKOUT_SECONDS) -> None:
        self.after = after
        self.seconds = seconds
        self.offences = 0
        self.until: float | None = None

    def locked(self, now: float) -> bool:
        """Whether the key is locked out at ``now`` (a lockout that ended is cleared)."""
        if self.until is None:
            return False
        if now < self.until:
            return True
        self.until = None
        self.offences = 0
        return False

    def offended(self, now: float) -> None:
        """A call was refused for the API counter at ``now``."""
        self.offences += 1
        if self.after and self.offences >= self.after:
            self.until = now + self.seconds

    def admitted(self) -> None:
        """A call was admitted: the run of offences is over."""
        self.offences = 0

    def __repr__(self) -> str:
        return f"Lockout(offences={self.offences}, until={self.until})"
