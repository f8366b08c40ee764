"""``orderpace simulate-exchange``: the simulated exchange over HTTP on 127.0.0.1.

::

    orderpace simulate-exchange --port PORT [--tier starter|intermediate|pro]
                                [--decay-step S] [--jitter-ms MS] [--seed N]
                                [--processing-time S] [--max-concurrent N]
                                [--key KEY --secret SECRET] [--fault SPEC ...]

It prints ``listening on http://127.0.0.1:PORT`` (``--port 0``: any free port, the bound
one is printed) and the API key to use.  Without ``--key``/``--secret`` (or
``ORDERPACE_SIM_API_KEY``/``ORDERPACE_SIM_API_SECRET``) it accepts the documented demo pair
and prints it; a secret given by flag or environment is never printed.  ``--fault`` takes
``KIND[:ENDPOINT[:NTH[:COUNT]]]`` (see :mod:`engine.exchange.server.faults`; an endpoint the
exchange does not serve is refused).  ``--processing-time S`` (seconds, default 0: off)
and ``--max-concurrent N`` (default 15) turn on the exchange's concurrency throttle: each
private request occupies its key for ``S`` seconds, and one arriving while ``N`` are in
flight gets ``EService:Throttled:<ts>``.

A port that cannot be bound (in use, privileged) is a usage error: one line
``orderpace simulate-exchange: error: cannot listen on 127.0.0.1:PORT: <reason>; ...``,
exit code 2.  SIGINT or SIGTERM stops the server cleanly (exit code 0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from engine.cli import Subcommand, UsageError
from engine.cli import types as cli_types
from engine.exchange import DEFAULT_MAX_CONCURRENT, DEFAULT_PROCESSING_TIME, SimulatedKraken
from engine.exchange.server.app import DEFAULT_DECAY_STEP, CannotListen, ServerConfig, serve
from engine.exchange.server.faults import Fault, FaultPlan, parse_fault
from engine.exchange.server.keys import DEMO_KEY, DEMO_SECRET, ServerKeys, server_keys
from engine.venues.kraken_rest.credentials import CredentialsError

__all__ = ["COMMAND"]

_PROG = "orderpace simulate-exchange"




def _fault(text: str) -> Fault:
    try:
        return parse_fault(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def configure(p: argparse.ArgumentParser) -> None:
    """Add ``simulate-exchange``'s arguments to ``p``."""
    p.add_argument("--port", type=cli_types.port, default=0,
                   help="TCP port on 127.0.0.1 (default 0: any free port, printed at start)")
    p.add_argument("--tier", default="intermediate", type=str.lower,
                   choices=("starter", "intermediate", "pro"),
                   help="Kraken verification tier the exchange enforces (default intermediate)")
    p.add_argument("--decay-step", type=cli_types.non_negative, default=DEFAULT_DECAY_STEP,
                   metavar="S",
                   help="release counter decay every S seconds (0: continuously; "
                        f"default {DEFAULT_DECAY_STEP:g})")
    p.add_argument("--jitter-ms", type=cli_types.non_negative, default=0.0, metavar="MS",
                   help="delay each request's arrival by a random 0..MS milliseconds "
                        "(default 0)")
    p.add_argument("--processing-time", type=cli_types.non_negative,
                   default=DEFAULT_PROCESSING_TIME, metavar="S",
                   help="seconds each private request occupies its key; with --max-concurrent "
                        "requests in flight the next is refused with EService:Throttled "
                        f"(default {DEFAULT_PROCESSING_TIME:g}: off)")
    p.add_argument("--max-concurrent", type=cli_types.positive_int,
                   default=DEFAULT_MAX_CONCURRENT, metavar="N",
                   help="private requests one key may have in flight when --processing-time "
                        f"> 0 (default {DEFAULT_MAX_CONCURRENT})")
    p.add_argument("--seed", type=int, default=1, metavar="N",
                   help="random seed: prices, decay phase, jitter (default 1)")
    p.add_argument("--key", help="API key to accept (default: the demo key, or "
                                 "$ORDERPACE_SIM_API_KEY)")
    p.add_argument("--secret", help="its base64 API secret (never printed; or "
                                    "$ORDERPACE_SIM_API_SECRET)")
    p.add_argument("--fault", action="append", type=_fault, default=[], metavar="SPEC",
                   help="inject a fault: KIND[:ENDPOINT[:NTH[:COUNT]]], KIND one of "
                        "drop-reply, hang, http-5xx, malformed-json, unavailable (repeatable)")


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; exit code 0."""
    try:
        keys = server_keys(args.key, args.secret)
    except CredentialsError as e:
        raise UsageError(str(e)) from None
    config = ServerConfig(
        tier=args.tier, decay_step=args.decay_step, jitter=args.jitter_ms / 1000.0,
        seed=args.seed, port=args.port,
        exchange_options={"processing_time": args.processing_time,
                          "max_concurrent": args.max_concurrent},
    )
    try:
        return asyncio.run(_serve_until_signal(config, keys, FaultPlan(args.fault)))
    except CannotListen as e:
        raise UsageError(f"{e}; pick another --port (or --port 0 for any free one)") from None


def _throttle(exchange: SimulatedKraken) -> str:
    """How the concurrency throttle is set, for the start line ("" when it is off)."""
    if exchange.processing_time <= 0:
        return ""
    return (f", processing time {exchange.processing_time:g} s, "
            f"max concurrent {exchange.max_concurrent}")


async def _serve_until_signal(config: ServerConfig, keys: ServerKeys, faults: FaultPlan) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with serve(config, keys=keys, faults=faults) as server:
            out = sys.stdout
            print(f"{_PROG}: listening on {server.url} (tier {config.tier.value}, "
                  f"decay step {config.decay_step:g} s, jitter {config.jitter * 1000:g} ms, "
                  f"seed {config.seed}{_throttle(server.exchange)})", file=out)
            if keys.demo:
                print(f"  demo API key:    {DEMO_KEY}", file=out)
                print(f"  demo API secret: {DEMO_SECRET}", file=out)
                print(f"  try: KRAKEN_API_KEY={DEMO_KEY} KRAKEN_API_SECRET={DEMO_SECRET} "
                      f"orderpace live --base-url {server.url} --strategy market-maker "
                      f"--decay-step {config.decay_step:g} --jitter-ms "
                      f"{config.jitter * 1000:g}", file=out)
            else:
                for key in keys.pairs:
                    print(f"  API key: {key[:4]}... (secret not shown)", file=out)
            if len(faults):
                print(f"  faults in force: {len(faults)}", file=out)
            out.flush()
            await stop.wait()
            served = sum(server.stats.requests.values())
        print(f"{_PROG}: stopped after {served} request(s)", flush=True)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return 0


COMMAND = Subcommand(
    "simulate-exchange", "serve the simulated exchange over HTTP on 127.0.0.1", configure, run,
)
