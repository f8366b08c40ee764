"""The live run's hooks for a shared store: flags, connecting, the budget, the pacer.

``orderpace live --store redis://host:port/db --account NAME`` (the Python API:
``LiveConfig(store=..., account=...)``).  :func:`open_shared` connects and loads the
scripts before anything is sent to the exchange; an unreachable server is a
:class:`~engine.run.live_config.LiveError` of one line (the CLI exits 1; a malformed URL
is refused earlier, exit 2).  The key's name in Redis is a digest of the API key (never
the key itself), so processes on one key share its API counter, and processes on
different keys do not.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from engine.aio import cancel_and_wait
from engine.clock import Clock
from engine.core.apikeys import SEND_KEY
from engine.core.engine import Engine, EngineSettings
from engine.core.keys import WireSlot
from engine.run.live_config import LiveError
from engine.shared.budget import RedisBudget, key_prefix
from engine.shared.link import Link, StoreUnavailable, connect_client
from engine.shared.nonces import RedisNonces
from engine.shared.store_url import DEFAULT_ACCOUNT, StoreConfigError, check_account, parse_store
from engine.shared.wire import RedisWire
from limiters import KrakenProfile

if TYPE_CHECKING:
    from engine.run.live_config import LiveConfig
    from engine.venues.kraken_rest.credentials import Credentials

__all__ = ["SharedPacer", "SharedStore", "add_arguments", "check_store_config", "held_open",
           "key_digest", "open_shared"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``--store`` and ``--account`` (for ``orderpace live``)."""
    p.add_argument("--store", default="memory", metavar="memory|redis://HOST:PORT/DB",
                   help="where the rate budget lives: this process (memory, the default) or "
                        "a Redis server shared by every process on the account")
    p.add_argument("--store-lease", type=float, default=5.0, metavar="SECONDS",
                   help="with a shared store: seconds after which the open-order slots of a "
                        "process that died are free again (default 5; renewed every third)")
    p.add_argument("--account", default=DEFAULT_ACCOUNT, metavar="NAME",
                   help="the account's name in the shared store (default "
                        f"{DEFAULT_ACCOUNT!r}); processes on one account share its budget")


def check_store_config(store: str, account: str) -> None:
    """Refuse a malformed store URL or account name (:class:`LiveError`, one line)."""
    try:
        parse_store(store)
        check_account(account)
    except StoreConfigError as e:
        raise LiveError(str(e)) from None


def held_open(engine: Engine) -> Callable[[str], int]:
    """``count(pair)``: the open-order slots ``engine`` holds on a pair -- acknowledged
    orders (and those of unknown fate) plus adds on the wire, as its scheduler counts them
    against the cap (queued adds hold no slot yet)."""
    book = engine._book  # the engine's own order book, read only

    def count(pair: str) -> int:
        return book.open_count.get(pair, 0) + book.pending_adds.get(pair, 0)

    return count


def key_digest(api_key: str) -> str:
    """The API key's name in Redis: 16 hex digits of its SHA-256."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


class SharedStore:
    """A connected store: :meth:`budget` for the engine, :meth:`pacer` for lookups."""

    def __init__(self, link: Link, account: str, api_keys: Sequence[str],
                 lease: float = 5.0) -> None:
        self.link = link
        self.account = account
        self.lease = lease
        self._digest = key_digest(api_keys[0])  # the engine's API counter: the first key's
        self._digests = [key_digest(k) for k in api_keys]  # a pool: each key's own counter
        self._budget: RedisBudget | None = None
        self._renewal: asyncio.Task[None] | None = None

    def budget(self, profile: KrakenProfile, settings: EngineSettings, key_id: str,
               key_ids: Sequence[str] | None = None) -> RedisBudget:
        """The engine's budget: ``key_id``'s API counter is the first key's; ``key_ids`` (a
        pool, in the keys' order) name each key's own counter, ``api:<digest of the key>``."""
        names = {key_id: self._digest}
        if key_ids is not None:
            if len(key_ids) != len(self._digests):
                raise ValueError(f"{len(key_ids)} key ids for {len(self._digests)} keys")
            names.update(zip(key_ids, self._digests, strict=True))
        self._budget = RedisBudget(profile, settings, self.link, self.account,
                                   key_names=names, lease=self.lease)
        return self._budget

    def start(self, count: Callable[[str], int], pairs: Iterable[str]) -> None:
        """Renew this process's open-order leases every third of the lease time, telling
        Redis what it holds on each pair (``count(pair)``: open, unknown, on the wire)."""
        budget, names = self._budget, tuple(pairs)
        assert budget is not None
        budget.count = count

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.lease / 3.0)
                with contextlib.suppress(StoreUnavailable):
                    await budget.renew({p: count(p) for p in names})

        self._renewal = asyncio.get_running_loop().create_task(renew())

    def pacer(self, key_id: str, clock: Clock) -> SharedPacer:
        assert self._budget is not None
        return SharedPacer(self._budget, key_id, clock)

    def wires(self, keys: Sequence[Credentials], config: LiveConfig
              ) -> list[WireSlot] | None:
        """Without a nonce window: each key's cluster-wide wire lease (one private request
        of the key on the wire, whichever process sends it), held at most the request
        timeout plus 2 s by a process that dies.  With a window: None (the in-process
        slots, over the shared nonces)."""
        if config.engine.nonce_window > 0:
            return None
        return [RedisWire(self.link, self.account, key_digest(k.key),
                          lease=config.timeout + 2.0) for k in keys]

    def nonces(self) -> RedisNonces:
        """The key's nonces, shared by every process on it."""
        return RedisNonces(self.link, self.account, key_digest)

    def details(self) -> dict[str, str]:
        return {"store": self.link.where, "account": self.account}

    async def aclose(self) -> None:
        """Stop renewing, give the slots back (a clean exit) and close the connection."""
        r, self._renewal = self._renewal, None
        await cancel_and_wait(r)
        if self._budget is not None:
            with contextlib.suppress(StoreUnavailable):
                await self._budget.release()
        await self.link.aclose()


class SharedPacer:
    """``await pacer(endpoint, cost)``: charge a lookup's cost on the shared API counter,
    waiting until it fits (and while Redis is away)."""

    __slots__ = ("_budget", "_clock", "_key", "calls", "charged")

    def __init__(self, budget: RedisBudget, key_id: str, clock: Clock) -> None:
        self._budget = budget
        self._key = key_id
        self._clock = clock
        self.charged = 0.0
        self.calls = 0

    async def __call__(self, endpoint: str, cost: float) -> None:
        if cost <= 0:
            return
        key = SEND_KEY.get()  # a key pool: the key the lookup goes out on
        if key is None:
            SEND_KEY.set(key := self._key)  # (an id the pool does not know: its pick)
        while True:
            try:
                c = await self._budget.charge_api(key, float(cost), self._clock.now())
            except StoreUnavailable:
                await asyncio.sleep(1.0)
                continue
            if c.charged:
                self.charged += cost
                self.calls += 1
                return
            await asyncio.sleep(max(c.wait, 1e-3))


async def open_shared(store: str, account: str, api_keys: Sequence[str],
                      lease: float = 5.0) -> SharedStore | None:
    """Connect to ``store`` (None for memory) and check it answers, before anything is sent."""
    spec = parse_store(store)
    if not spec.shared:
        return None
    client = connect_client(spec.url)
    link = Link(client, spec.where)
    name = check_account(account)
    try:
        await client.ping()
        # the account's epoch: should Redis lose its state, its absence says so
        await client.set(f"{key_prefix(name)}epoch", "1", nx=True)
    except Exception as e:
        await link.aclose()
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LiveError(f"cannot reach the shared store {spec.where}: {first}") from None
    return SharedStore(link, name, api_keys, lease)

