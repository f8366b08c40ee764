"""API credentials: where they come from, and how they stay out of sight.

A :class:`Credentials` holds the API key and its base64 secret.  Its ``repr`` and ``str``
show only the first characters of the key; no error raised here ever contains the secret
(validation errors name the field, never its value).

Sources:

* the environment: ``KRAKEN_API_KEY`` and ``KRAKEN_API_SECRET`` (:meth:`Credentials.from_env`);
* a file (:meth:`Credentials.from_file`) that is readable by its owner only: any group or
  other permission bit (``mode & 0o077``) is refused with :class:`InsecureCredentialsFile`,
  naming the path and the mode.  The file holds either ``KRAKEN_API_KEY=...`` and
  ``KRAKEN_API_SECRET=...`` lines, or just two lines: the key, then the secret.  Blank lines
  and lines starting with ``#`` are ignored.  The mode is checked on the opened file
  (``fstat``), so it cannot be swapped between the check and the read.  POSIX permissions.

**Key pools** (several keys of one account, :mod:`engine.core.keys`): a file may hold the
``KRAKEN_API_KEY=`` / ``KRAKEN_API_SECRET=`` pair several times, one pair per key
(:meth:`Credentials.pool_from_file`); the environment adds ``KRAKEN_API_KEY_2`` /
``KRAKEN_API_SECRET_2``, ``_3``... after the unnumbered pair, up to the first number not
set (:meth:`Credentials.pool_from_env`).  The same key twice is refused.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

import attrs

from engine.venues.kraken_rest.signing import InvalidSecret, decode_secret

__all__ = [
    "KEY_VAR",
    "SECRET_VAR",
    "Credentials",
    "CredentialsError",
    "InsecureCredentialsFile",
    "InvalidCredentials",
    "MissingCredentials",
]

KEY_VAR = "KRAKEN_API_KEY"
SECRET_VAR = "KRAKEN_API_SECRET"

#: How many leading characters of the key a repr shows.
_KEY_PREFIX = 4


class CredentialsError(Exception):
    """Credentials could not be loaded or are malformed.  Never contains the secret."""


class MissingCredentials(CredentialsError):
    """A required credential is absent (names the variable, file or field)."""


class InvalidCredentials(CredentialsError):
    """A credential is malformed (names the field, never its value)."""


class InsecureCredentialsFile(CredentialsError):
    """A credentials file that group or others may access."""

    def __init__(self, path: Path, mode: int) -> None:
        self.path = path
        self.mode = mode
        super().__init__(
            f"credentials file {str(path)!r} has mode {mode:04o}: group and others must have "
            f"no access to it (run: chmod 600 {str(path)!r})"
        )


def _check_key(key: str) -> None:
    if not key:
        raise InvalidCredentials("API key is empty")
    if any(ch.isspace() or not ch.isprintable() or not ch.isascii() for ch in key):
        raise InvalidCredentials("API key contains whitespace or non-printable characters")


def _check_secret(secret: str) -> None:
    if not secret:
        raise InvalidCredentials("API secret is empty")
    try:
        decode_secret(secret)
    except InvalidSecret:
        raise InvalidCredentials("API secret is not valid base64") from None


def _key_prefix(key: str) -> str:
    return key[:_KEY_PREFIX] + "..."


@attrs.frozen(slots=True, repr=False)
class Credentials:
    """An API key (sent as ``API-Key``) and its base64 secret (used only to sign)."""

    key: str
    secret: str = attrs.field(repr=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.key, str) or not isinstance(self.secret, str):
            raise InvalidCredentials("API key and secret must be strings")
        _check_key(self.key)
        _check_secret(self.secret)

    @property
    def key_prefix(self) -> str:
        """The first characters of the key, safe to log (``"AbCd..."``)."""
        return _key_prefix(self.key)

    def __repr__(self) -> str:
        return f"Credentials(key={self.key_prefix!r}, secret=<hidden>)"

    __str__ = __repr__

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        key_var: str = KEY_VAR,
        secret_var: str = SECRET_VAR,
    ) -> Credentials:
        """Credentials from ``key_var`` and ``secret_var`` in ``environ`` (``os.environ``)."""
        env = os.environ if environ is None else environ
        key = env.get(key_var, "").strip()
        secret = env.get(secret_var, "").strip()
        missing = [name for name, value in ((key_var, key), (secret_var, secret)) if not value]
        if missing:
            raise MissingCredentials(f"environment variable(s) not set: {', '.join(missing)}")
        return cls(key, secret)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Credentials:
        """Credentials from a file readable by its owner only (see the module docstring);
        the first key of a file that holds several."""
        file = Path(path)
        key, secret = _parse_file(_read_file(file), file)[0]
        return cls(key, secret)

    @classmethod
    def pool_from_file(cls, path: str | os.PathLike[str]) -> tuple[Credentials, ...]:
        """Every key of a credentials file (one or more pairs; see the module docstring)."""
        file = Path(path)
        pairs = _parse_file(_read_file(file), file)
        return _distinct(tuple(cls(k, s) for k, s in pairs), f"file {str(file)!r}")

    @classmethod
    def pool_from_env(cls, environ: Mapping[str, str] | None = None) -> tuple[Credentials, ...]:
        """``KRAKEN_API_KEY``/``KRAKEN_API_SECRET``, then ``..._2``, ``..._3``... while set."""
        env = os.environ if environ is None else environ
        keys = [cls.from_env(env)]
        n = 2
        while env.get(f"{KEY_VAR}_{n}", "").strip() or env.get(f"{SECRET_VAR}_{n}", "").strip():
            keys.append(cls.from_env(env, key_var=f"{KEY_VAR}_{n}",
                                     secret_var=f"{SECRET_VAR}_{n}"))
            n += 1
        return _distinct(tuple(keys), "the environment")


def _read_file(file: Path) -> str:
    """The text of a credentials file readable by its owner only."""
    try:
        fd = os.open(file, os.O_RDONLY)
    except OSError as exc:
        raise CredentialsError(
            f"cannot open credentials file {str(file)!r}: {exc.strerror}"
        ) from None
    st_mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(st_mode):
        os.close(fd)
        raise CredentialsError(
            f"cannot open credentials file {str(file)!r}: not a regular file"
        )
    with os.fdopen(fd, "rb") as handle:
        mode = stat.S_IMODE(st_mode)
        if mode & 0o077:
            raise InsecureCredentialsFile(file, mode)
        raw = handle.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidCredentials(
            f"credentials file {str(file)!r} is not UTF-8 text"
        ) from None


def _distinct(keys: tuple[Credentials, ...], where: str) -> tuple[Credentials, ...]:
    seen: set[str] = set()
    for i, c in enumerate(keys):
        if c.key in seen:
            raise InvalidCredentials(f"{where}: key {i + 1} ({c.key_prefix}) is given twice")
        seen.add(c.key)
    return keys


def _parse_file(text: str, file: Path) -> list[tuple[str, str]]:
    """The (key, secret) pairs of a credentials file, in order."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    pairs: list[tuple[str, str]] = []
    current: dict[str, str] = {}
    for line in lines:
        for name in (KEY_VAR, SECRET_VAR):
            if line.startswith(name + "="):
                if name in current:
                    other = SECRET_VAR if name == KEY_VAR else KEY_VAR
                    raise MissingCredentials(
                        f"credentials file {str(file)!r}: pair {len(pairs) + 1} does not "
                        f"set {other} before the next {name}")
                current[name] = line[len(name) + 1:].strip().strip("'\"")
                if len(current) == 2:
                    pairs.append((current[KEY_VAR], current[SECRET_VAR]))
                    current = {}
    if pairs or current:
        missing = [name for name in (KEY_VAR, SECRET_VAR) if not current.get(name)]
        if current:
            raise MissingCredentials(
                f"credentials file {str(file)!r} does not set {', '.join(missing)}"
                + (f" for pair {len(pairs) + 1}" if pairs else ""))
        for i, (key, secret) in enumerate(pairs):
            if not key or not secret:
                what = KEY_VAR if not key else SECRET_VAR
                raise MissingCredentials(
                    f"credentials file {str(file)!r} does not set {what}"
                    + (f" for pair {i + 1}" if len(pairs) > 1 else ""))
        return pairs
    if len(lines) != 2:
        raise InvalidCredentials(
            f"credentials file {str(file)!r} must hold {KEY_VAR}=... and {SECRET_VAR}=... "
            f"lines, or exactly two lines (key, then secret); found {len(lines)} line(s)"
        )
    return [(lines[0], lines[1])]
