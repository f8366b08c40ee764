"""--store and --account: memory by default, Redis URLs checked, one-line refusals."""

from __future__ import annotations

import pytest

from engine.shared.store_url import StoreConfigError, check_account, parse_store


def test_memory_is_the_default() -> None:
    assert not parse_store(None).shared
    assert not parse_store("memory").shared


@pytest.mark.parametrize(("url", "where"), [
    ("redis://127.0.0.1:6390/2", "127.0.0.1:6390/2"),
    ("redis://localhost", "localhost:6379/0"),
    ("rediss://:s3cret@cache.example:7000/0", "cache.example:7000/0"),
])
def test_redis_urls(url: str, where: str) -> None:
    spec = parse_store(url)
    assert spec.shared
    assert spec.where == where
    assert "s3cret" not in repr(spec)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:6379/0", "redis://", "redis://host:99999/0", "redis://host:port/0",
    "redis://host:6379/zero", "redis://host:6379/0?x=1", "127.0.0.1:6379",
    "redis://:hunter2@host:notaport/0",
])
def test_malformed_urls_are_refused_in_one_line(url: str) -> None:
    with pytest.raises(StoreConfigError) as info:
        parse_store(url)
    message = str(info.value)
    assert "\n" not in message
    assert "hunter2" not in message


@pytest.mark.parametrize("name", ["desk-1", "mm.hedger_2", "A"])
def test_account_names(name: str) -> None:
    assert check_account(name) == name


@pytest.mark.parametrize("name", ["", "a:b", "{x}", "-lead", "a" * 65, "sp ace"])
def test_bad_account_names(name: str) -> None:
    with pytest.raises(StoreConfigError, match="account"):
        check_account(name)
