"""``orderpace simulate-exchange``: the simulated exchange over HTTP (REST) and WebSocket v2
(``/v2``) on 127.0.0.1, one port, one exchange.

::

    orderpace simulate-exchange --port PORT [--tier starter|intermediate|pro]
                                [--decay-step S] [--jitter-ms MS] [--nonce-window N]
                                [--seed N] [--processing-time S] [--max-concurrent N]
                                [--lockout-after N] [--lockout-seconds S]
                                [--public-rate R] [--public-burst N] [--spread-ticks N]
                                [--idle-timeout S] [--ws-token-ttl S] [--heartbeat S]
                                [--key KEY --secret SECRET ...] [--fault SPEC ...]
                                [--json]

It prints ``listening on http://127.0.0.1:PORT`` (``--port 0``: any free port, the bound
one is printed), the WebSocket URL ``ws://127.0.0.1:PORT/v2`` and the API key to use.
Without ``--key``/``--secret`` (or ``ORDERPACE_SIM_API_KEY``/``ORDERPACE_SIM_API_SECRET``)
it accepts the documented demo pair and prints it; a secret given by flag or environment is
never printed.  ``--fault`` takes ``KIND[:ENDPOINT[:NTH[:COUNT[:WHEN]]]]`` (see
:mod:`engine.exchange.server.faults`; ENDPOINT a REST endpoint, a WebSocket v2 method or
``/v2``; an endpoint the exchange does not serve is refused).  Every flag's default matches
Kraken where Kraken documents the number, and names this simulator's choice where it does
not (``--help``).

A port that cannot be bound (in use, privileged) is a usage error: one line
``orderpace simulate-exchange: error: cannot listen on 127.0.0.1:PORT: <reason>; ...``,
exit code 2.  SIGINT or SIGTERM stops the server cleanly (exit code 0).

What it served (:mod:`engine.exchange.server.tally`: requests and errors by code, per API
key shown as its first characters, public, in total, and ``rate_limit_errors``): SIGUSR1
prints it while serving -- one line, a JSON object with ``--json`` -- and with ``--json``
the last line printed at stop is that JSON object too (``endpoints``: requests by
endpoint, added).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import signal
import sys
from collections.abc import Callable
from typing import Any

from engine.cli import Subcommand, UsageError
from engine.cli import types as cli_types
from engine.exchange import (
    DEFAULT_LOCKOUT_AFTER,
    DEFAULT_LOCKOUT_SECONDS,
    DEFAULT_MAX_CONCURRENT,
    DEFAULT_PROCESSING_TIME,
    DEFAULT_PUBLIC_BURST,
    DEFAULT_PUBLIC_RATE,
    DEFAULT_SPREAD_TICKS,
    DEFAULT_TOKEN_TTL,
    MAX_SETTING_SECONDS,
    SimulatedKraken,
)
from engine.exchange.server import (
    DEFAULT_DECAY_STEP,
    DEFAULT_HEARTBEAT,
    DEFAULT_IDLE_TIMEOUT,
    DEMO_KEY,
    DEMO_SECRET,
    MAX_DECAY_STEP,
    MAX_IDLE_TIMEOUT,
    MAX_JITTER,
    CannotListen,
    ExchangeServer,
    Fault,
    FaultPlan,
    InvalidServerKey,
    ServerConfig,
    ServerKeys,
    parse_fault,
    serve,
    server_keys,
)

__all__ = ["COMMAND"]

_PROG = "orderpace simulate-exchange"




def _fault(text: str) -> Fault:
    try:
        return parse_fault(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _number(low: float, high: float, *, positive: bool = False) -> Callable[[str], float]:
    """An argument type: a finite number in ``[low, high]`` (``> low`` with ``positive``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        bad = not math.isfinite(value) or value > high or (
            value <= low if positive else value < low)
        if bad:
            rel = ">" if positive else ">="
            raise argparse.ArgumentTypeError(
                f"expected a number {rel} {low:g} and <= {high:g}, got {text!r}")
        return value

    return parse


def _integer(low: int, high: int) -> Callable[[str], int]:
    """An argument type: an integer in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {low} and <= {high}, got {text!r}")
        return value

    return parse


def configure(p: argparse.ArgumentParser) -> None:
    """Add ``simulate-exchange``'s arguments to ``p``."""
    day = MAX_SETTING_SECONDS
    p.add_argument("--port", type=cli_types.port, default=0,
                   help="TCP port on 127.0.0.1 (default 0: any free port, printed at start)")
    p.add_argument("--tier", default="intermediate", type=str.lower,
                   choices=("starter", "intermediate", "pro"),
                   help="Kraken verification tier the exchange enforces (default intermediate)")
    p.add_argument("--decay-step", type=_number(0, MAX_DECAY_STEP), default=DEFAULT_DECAY_STEP,
                   metavar="S",
                   help="release counter decay every S seconds (0: continuously; default "
                        f"{DEFAULT_DECAY_STEP:g}, Kraken's 'every couple of seconds')")
    p.add_argument("--jitter-ms", type=_number(0, MAX_JITTER * 1000), default=0.0, metavar="MS",
                   help="delay each request's arrival by a random 0..MS milliseconds, drawn "
                        "per connection: one connection keeps its order, different "
                        f"connections may overtake (default 0, at most {MAX_JITTER * 1000:g})")
    p.add_argument("--nonce-window", type=_integer(0, 2**64 - 1), default=0, metavar="N",
                   help="accept a nonce up to N below the highest seen, once, as a Kraken "
                        "key with a nonce window does (default 0: strictly increasing)")
    p.add_argument("--processing-time", type=_number(0, day),
                   default=DEFAULT_PROCESSING_TIME, metavar="S",
                   help="seconds each private request occupies its key; with --max-concurrent "
                        "requests in flight the next is refused with EService:Throttled "
                        f"(default {DEFAULT_PROCESSING_TIME:g}: off)")
    p.add_argument("--max-concurrent", type=cli_types.positive_int,
                   default=DEFAULT_MAX_CONCURRENT, metavar="N",
                   help="private requests one key may have in flight when --processing-time "
                        f"> 0 (default {DEFAULT_MAX_CONCURRENT}; Kraken does not publish it)")
    p.add_argument("--lockout-after", type=_integer(0, 10**9), default=DEFAULT_LOCKOUT_AFTER,
                   metavar="N",
                   help="lock a key out (EGeneral:Temporary lockout) after N calls in a row "
                        "refused with EAPI:Rate limit exceeded (default "
                        f"{DEFAULT_LOCKOUT_AFTER}, this simulator's choice: Kraken does not "
                        "publish it; 0: never)")
    p.add_argument("--lockout-seconds", type=_number(0, day), default=DEFAULT_LOCKOUT_SECONDS,
                   metavar="S",
                   help="how long a lockout lasts (default "
                        f"{DEFAULT_LOCKOUT_SECONDS:g}: Kraken's 'about 15 minutes')")
    p.add_argument("--public-rate", type=_number(0, 1e6), default=DEFAULT_PUBLIC_RATE,
                   metavar="R",
                   help="public requests per second one IP may sustain; over it "
                        f"EGeneral:Too many requests (default {DEFAULT_PUBLIC_RATE:g}, "
                        "Kraken's; 0: unlimited)")
    p.add_argument("--public-burst", type=_integer(1, 10**6), default=DEFAULT_PUBLIC_BURST,
                   metavar="N",
                   help="public requests one IP may send back to back (default "
                        f"{DEFAULT_PUBLIC_BURST}, this simulator's choice)")
    p.add_argument("--spread-ticks", type=_integer(0, 10**6), default=DEFAULT_SPREAD_TICKS,
                   metavar="N",
                   help="ticks between the quoted bid and ask (default "
                        f"{DEFAULT_SPREAD_TICKS}, as on Kraken's liquid pairs)")
    p.add_argument("--idle-timeout", type=_number(0, MAX_IDLE_TIMEOUT, positive=True),
                   default=DEFAULT_IDLE_TIMEOUT, metavar="S",
                   help="close a connection that sends nothing for S seconds while none of "
                        f"its requests is being handled (default {DEFAULT_IDLE_TIMEOUT:g})")
    p.add_argument("--ws-token-ttl", type=_number(0, day, positive=True),
                   default=DEFAULT_TOKEN_TTL, metavar="S",
                   help="a WebSocket token must be first used within S seconds of "
                        "GetWebSocketsToken, and stays valid while a connection uses it "
                        f"(default {DEFAULT_TOKEN_TTL:g}: Kraken's 15 minutes)")
    p.add_argument("--heartbeat", type=_number(0, 60, positive=True),
                   default=DEFAULT_HEARTBEAT, metavar="S",
                   help="seconds between heartbeats on a WebSocket connection with a "
                        f"subscription (default {DEFAULT_HEARTBEAT:g}: Kraken's about once "
                        "a second)")
    p.add_argument("--seed", type=int, default=1, metavar="N",
                   help="random seed: prices, decay phase, jitter (default 1)")
    p.add_argument("--key", action="append", default=None,
                   help="API key to accept (default: the demo key, or "
                        "$ORDERPACE_SIM_API_KEY); repeat --key/--secret for several keys of "
                        "one account (paired in order)")
    p.add_argument("--secret", action="append", default=None,
                   help="its base64 API secret (never printed; or $ORDERPACE_SIM_API_SECRET)")
    p.add_argument("--fault", action="append", type=_fault, default=[], metavar="SPEC",
                   help="inject a fault: KIND[:ENDPOINT[:NTH[:COUNT[:WHEN]]]], KIND one of "
                        "drop-reply, hang, http-5xx, malformed-json, unavailable, "
                        "refuse-token; ENDPOINT a REST endpoint, a WebSocket v2 method, /v2 "
                        "(any WebSocket message) or * (any); WHEN after (the exchange "
                        "processes the request first) or before (repeatable)")
    p.add_argument("--json", action="store_true",
                   help="at stop, print what was served as one JSON line (the last): "
                        "requests and errors by code, per API key (its first characters, "
                        "in --key order; never a secret), public, in total, with "
                        "rate_limit_errors; SIGUSR1 prints the same line while serving "
                        "(without --json: a one-line summary)")


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; exit code 0."""
    try:
        keys = server_keys(args.key, args.secret)
    except InvalidServerKey as e:
        raise UsageError(str(e)) from None
    config = ServerConfig(
        tier=args.tier, decay_step=args.decay_step, jitter=args.jitter_ms / 1000.0,
        seed=args.seed, port=args.port, idle_timeout=args.idle_timeout,
        heartbeat=args.heartbeat,
        exchange_options={
            "processing_time": args.processing_time, "max_concurrent": args.max_concurrent,
            "nonce_window": args.nonce_window, "lockout_after": args.lockout_after,
            "lockout_seconds": args.lockout_seconds, "public_rate": args.public_rate,
            "public_burst": args.public_burst, "spread": args.spread_ticks,
            "ws_token_ttl": args.ws_token_ttl,
        },
    )
    try:
        return asyncio.run(_serve_until_signal(config, keys, FaultPlan(args.fault),
                                               json_out=args.json))
    except CannotListen as e:
        raise UsageError(f"{e}; pick another --port (or --port 0 for any free one)") from None


def _throttle(exchange: SimulatedKraken) -> str:
    """How the concurrency throttle is set, for the start line ("" when it is off)."""
    if exchange.processing_time <= 0:
        return ""
    return (f", processing time {exchange.processing_time:g} s, "
            f"max concurrent {exchange.max_concurrent}")


def served_report(server: ExchangeServer) -> dict[str, Any]:
    """What ``server`` served so far: its tally's snapshot and ``endpoints`` (requests by
    endpoint)."""
    return {**server.tally.snapshot(), "endpoints": dict(sorted(server.stats.requests.items()))}


def _print_report(server: ExchangeServer, json_out: bool) -> None:
    """SIGUSR1: one line of what was served so far (JSON with ``--json``)."""
    report = served_report(server)
    errors: dict[str, int] = report["errors"]
    if json_out:
        print(json.dumps(report, separators=(",", ":")), flush=True)
        return
    print(f"{_PROG}: served {report['requests']} request(s) so far, "
          f"{sum(errors.values())} error(s), "
          f"{report['rate_limit_errors']} rate-limit error(s), "
          f"{report['in_flight']} in flight", flush=True)


async def _serve_until_signal(config: ServerConfig, keys: ServerKeys, faults: FaultPlan, *,
                              json_out: bool = False) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    usr1 = getattr(signal, "SIGUSR1", None)
    try:
        async with serve(config, keys=keys, faults=faults) as server:
            if usr1 is not None:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(usr1, _print_report, server, json_out)
            out = sys.stdout
            print(f"{_PROG}: listening on {server.url} (tier {config.tier}, "
                  f"decay step {config.decay_step:g} s, jitter {config.jitter * 1000:g} ms, "
                  f"seed {config.seed}{_throttle(server.exchange)})", file=out)
            print(f"  websocket v2:    {server.ws_url} (token: REST GetWebSocketsToken)",
                  file=out)
            if keys.demo:
                print(f"  demo API key:    {DEMO_KEY}", file=out)
                print(f"  demo API secret: {DEMO_SECRET}", file=out)
                print(f"  try: KRAKEN_API_KEY={DEMO_KEY} KRAKEN_API_SECRET={DEMO_SECRET} "
                      f"orderpace live --base-url {server.url} --strategy market-maker "
                      f"--decay-step {config.decay_step:g} --jitter-ms "
                      f"{config.jitter * 1000:g}", file=out)
            else:
                for n, key in enumerate(keys.pairs, 1):
                    print(f"  API key {n}: {key[:4]}... (secret not shown)", file=out)
            if len(faults):
                print(f"  faults in force: {len(faults)}", file=out)
            out.flush()
            await stop.wait()
            served = sum(server.stats.requests.values())
            if usr1 is not None:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(usr1)
        print(f"{_PROG}: stopped after {served} request(s)", flush=True)
        if json_out:
            print(json.dumps(served_report(server), separators=(",", ":")), flush=True)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return 0


COMMAND = Subcommand(
    "simulate-exchange", "serve the simulated exchange (REST and WebSocket v2) on 127.0.0.1",
    configure, run,
)
