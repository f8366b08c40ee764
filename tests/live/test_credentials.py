"""Credentials: environment, owner-only files, and a secret that never shows."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.venues.kraken_rest.credentials import (
    Credentials,
    CredentialsError,
    InsecureCredentialsFile,
    InvalidCredentials,
    MissingCredentials,
)

from .support import LEAK_KEY, LEAK_SECRET

ENV = {"KRAKEN_API_KEY": LEAK_KEY, "KRAKEN_API_SECRET": LEAK_SECRET}


def write(path: Path, text: str, mode: int) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_from_env() -> None:
    creds = Credentials.from_env(ENV)
    assert creds.key == LEAK_KEY
    assert creds.secret == LEAK_SECRET


def test_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    assert Credentials.from_env().key == LEAK_KEY


@pytest.mark.parametrize("missing", ["KRAKEN_API_KEY", "KRAKEN_API_SECRET"])
def test_from_env_names_the_missing_variable(missing: str) -> None:
    env = {k: v for k, v in ENV.items() if k != missing}
    with pytest.raises(MissingCredentials, match=missing):
        Credentials.from_env(env)


def test_from_env_refuses_a_secret_that_is_not_base64(no_secret: Callable[[str], None]) -> None:
    bad = LEAK_SECRET[:-3] + "!!!"
    with pytest.raises(InvalidCredentials, match="base64") as info:
        Credentials.from_env({"KRAKEN_API_KEY": LEAK_KEY, "KRAKEN_API_SECRET": bad})
    assert bad not in str(info.value)
    assert info.value.__cause__ is None


@pytest.mark.parametrize("key", ["", "has space", "tab\tkey", "new\nline"])
def test_key_validated(key: str) -> None:
    with pytest.raises(InvalidCredentials, match="API key"):
        Credentials(key, LEAK_SECRET)


def test_repr_and_str_show_only_a_key_prefix(
    creds: Credentials, no_secret: Callable[[str], None]
) -> None:
    for text in (repr(creds), str(creds), f"{creds}", f"{creds!r}", repr([creds])):
        no_secret(text)
        assert LEAK_KEY not in text
        assert "KeyP..." in text
    assert creds.key_prefix == "KeyP..."


def test_file_with_assignments(tmp_path: Path) -> None:
    path = write(
        tmp_path / "kraken.env",
        f"# my key\nKRAKEN_API_KEY={LEAK_KEY}\n\nKRAKEN_API_SECRET='{LEAK_SECRET}'\n",
        0o600,
    )
    creds = Credentials.from_file(path)
    assert (creds.key, creds.secret) == (LEAK_KEY, LEAK_SECRET)


def test_file_with_two_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "kraken.key", f"{LEAK_KEY}\n{LEAK_SECRET}\n", 0o400)
    creds = Credentials.from_file(str(path))
    assert (creds.key, creds.secret) == (LEAK_KEY, LEAK_SECRET)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o660, 0o666])
def test_file_readable_by_others_is_refused_naming_path_and_mode(
    tmp_path: Path, mode: int, no_secret: Callable[[str], None]
) -> None:
    path = write(tmp_path / "kraken.key", f"{LEAK_KEY}\n{LEAK_SECRET}\n", mode)
    with pytest.raises(InsecureCredentialsFile) as info:
        Credentials.from_file(path)
    message = str(info.value)
    assert str(path) in message
    assert f"{mode:04o}" in message
    assert info.value.mode == mode
    assert info.value.path == path
    no_secret(message)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent"
    with pytest.raises(CredentialsError, match="absent"):
        Credentials.from_file(path)


@pytest.mark.parametrize(
    "text",
    [
        f"{LEAK_KEY}\n",
        f"{LEAK_KEY}\n{LEAK_SECRET}\nextra\n",
        f"KRAKEN_API_KEY={LEAK_KEY}\n",
    ],
    ids=["one-line", "three-lines", "no-secret-assignment"],
)
def test_malformed_file(tmp_path: Path, text: str, no_secret: Callable[[str], None]) -> None:
    path = write(tmp_path / "kraken.key", text, 0o600)
    with pytest.raises(CredentialsError) as info:
        Credentials.from_file(path)
    no_secret(str(info.value))


def test_invalid_secret_in_file_not_shown(
    tmp_path: Path, no_secret: Callable[[str], None]
) -> None:
    bad = LEAK_SECRET + "*"
    path = write(tmp_path / "kraken.key", f"{LEAK_KEY}\n{bad}\n", 0o600)
    with pytest.raises(InvalidCredentials) as info:
        Credentials.from_file(path)
    no_secret(str(info.value))
    no_secret(repr(info.value))


def test_credentials_are_frozen(creds: Credentials) -> None:
    with pytest.raises(AttributeError):
        creds.secret = "x"  # type: ignore[misc]


def test_unreadable_file(tmp_path: Path) -> None:
    # a missing file and a directory cannot be opened, for root too (root reads any mode)
    with pytest.raises(CredentialsError, match="cannot open"):
        Credentials.from_file(tmp_path / "missing.key")
    with pytest.raises(CredentialsError, match="cannot open"):
        Credentials.from_file(tmp_path)


def test_pickle_roundtrip_keeps_equality(creds: Credentials) -> None:
    assert pickle.loads(pickle.dumps(creds)) == creds
