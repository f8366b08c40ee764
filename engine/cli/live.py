"""``orderpace live``: run a strategy against Kraken or a Kraken-compatible server.

::

    orderpace live --strategy NAME [--base-url URL] [--tier ...] [--pairs XBT/USD,ETH/USD]
                   [--duration SECONDS] [--set key=value ...] [--json] [--dry-run]
                   [--on-exit cancel|leave] [--credentials-file FILE] [--nonce-window N]
                   [--decay-step S] [--jitter-ms MS] [--poll-interval S] [--timeout S]
                   [--transport rest|ws] [--ws-url URL] [--dead-man SECONDS]

Credentials come from ``KRAKEN_API_KEY`` and ``KRAKEN_API_SECRET`` (more keys of the
account: ``KRAKEN_API_KEY_2`` / ``KRAKEN_API_SECRET_2``...), or from ``--credentials-file``
(owner-only permissions; one ``KRAKEN_API_KEY=``/``KRAKEN_API_SECRET=`` pair per key): see
:mod:`engine.cli.live_keys`; without them the command exits with code 2
and says what is missing.  The secret is never printed or logged (logs also pass through a
redacting filter).

Against a local ``orderpace simulate-exchange`` give its ``--decay-step`` and
``--jitter-ms`` so the engine's margins match it (see
:func:`engine.run.live.limiter_settings`); otherwise the engine keeps Kraken's safe live
margins.

``--dry-run``: adds are sent with ``validate=true`` (checked, never placed); cancels,
amends and edits are answered locally and never sent (marked ``dry_run``); order polling
is off.  See :mod:`engine.venues.kraken_rest.dryrun`.

Logs (structlog) go to stderr: human-readable on a terminal, JSON lines otherwise; ``-v``
adds debug events.  The summary goes to stdout: a table, or with ``--json`` one JSON
object on the last line with the backtest's keys plus ``"live"``.

Pairs are any the exchange's ``AssetPairs`` lists, named ``BASE/QUOTE`` (``XBT/EUR``);
``--base-url`` must be ``http(s)://host[:port]``.  Both are checked before anything is
sent; the key is checked with one private call (OpenOrders) before the strategy starts.

Ctrl-C (SIGINT) or SIGTERM stops the run cleanly: no new intents, open orders cancelled
(``--on-exit cancel``, the default) or left on the book (``leave``), every handle resolved,
then the summary.  A second Ctrl-C aborts the shutdown.  Exit codes: 0 done; 1 the strategy
failed, the exchange refused the API key (wrong key or secret, missing permission, lockout,
or a nonce below one the key already took; the error names Kraken's reply) or the run
could not proceed; 2 bad usage (a malformed pair or base URL, a port outside 1..65535, a
``--decay-step`` or ``--jitter-ms`` too large for the tier -- the message names the largest
it allows -- bad settings) or missing credentials; 130 stopped by Ctrl-C (SIGINT),
143 by SIGTERM -- with or without ``--duration``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys

import attrs

from engine.cli import Subcommand, UsageError, live_keys
from engine.cli import types as cli_types
from engine.cli.logsetup import configure_live_logging
from engine.core.settings import EngineSettings
from engine.journal import options as journal_options
from engine.run.live import LiveConfig, LiveError, LiveResult, MarginTooLarge, run_live
from engine.run.transport_options import add_arguments as add_transport_arguments
from engine.run.transport_options import options_from_args as transport_from_args
from engine.shared import live as shared_store
from engine.venues.kraken_rest.credentials import Credentials
from engine.venues.kraken_rest.rest import DEFAULT_BASE_URL

__all__ = ["COMMAND", "configure", "run"]

_PROG = "orderpace live"
_DEFAULT_PAIRS = ("XBT/USD", "ETH/USD")
#: The exit status of a run stopped by signal ``n`` (the shell's convention: 130 for SIGINT).
_SIGNAL_EXIT = 128


@attrs.define(slots=True)
class _Ended:
    """How :func:`_run_until_signal` ended: the result (None: aborted by a second signal)
    and the first signal received, if any."""

    result: LiveResult | None
    signum: int | None = None


def configure(p: argparse.ArgumentParser) -> None:
    """Add ``live``'s arguments to ``p``."""
    p.add_argument("--strategy", required=True, metavar="NAME",
                   help="strategy to run (see 'orderpace strategies')")
    p.add_argument("--base-url", default=DEFAULT_BASE_URL, metavar="URL",
                   help=f"exchange REST base URL (default {DEFAULT_BASE_URL}; a local "
                        "'orderpace simulate-exchange' works)")
    p.add_argument("--tier", default="intermediate", type=cli_types.tier,
                   metavar="starter|intermediate|pro",
                   help="your Kraken verification tier (default intermediate)")
    p.add_argument("--pairs", type=cli_types.pairs, default=_DEFAULT_PAIRS, metavar="PAIR,PAIR",
                   help=f"pairs to trade (default {','.join(_DEFAULT_PAIRS)})")
    p.add_argument("--duration", type=cli_types.seconds, default=None, metavar="SECONDS",
                   help="stop after this many seconds (default: run until Ctrl-C)")
    p.add_argument("--set", dest="settings", action="append", type=cli_types.assignment, default=[],
                   metavar="KEY=VALUE", help="set a strategy parameter (repeatable)")
    p.add_argument("--json", action="store_true",
                   help="print the summary as one JSON object (the last line)")
    p.add_argument("--dry-run", action="store_true",
                   help="validate adds only (validate=true); never send cancels, amends, edits")
    p.add_argument("--on-exit", choices=("cancel", "leave"), default="cancel",
                   help="on stop: cancel the run's open orders (default) or leave them")
    p.add_argument("--credentials-file", metavar="FILE",
                   help="read KRAKEN_API_KEY=... / KRAKEN_API_SECRET=... from FILE "
                        "(mode 600) instead of the environment; repeat the pair for a "
                        "pool of keys on one account")
    live_keys.add_arguments(p)
    p.add_argument("--decay-step", type=cli_types.non_negative, default=None, metavar="S",
                   help="the server's decay step in seconds, when known (a local "
                        "simulate-exchange); default: unknown, Kraken-safe margins; at most "
                        "what leaves the tier's counters room for their costliest request "
                        "(a larger one is refused, naming the largest)")
    p.add_argument("--jitter-ms", type=cli_types.non_negative, default=None, metavar="MS",
                   help="the server's arrival jitter in milliseconds, when known (bounded "
                        "like --decay-step)")
    p.add_argument("--poll-interval", type=cli_types.seconds, default=5.0, metavar="S",
                   help="seconds between OpenOrders polls (default 5; 2 API units each)")
    p.add_argument("--timeout", type=cli_types.seconds, default=10.0, metavar="S",
                   help="seconds to wait for each reply (default 10)")
    p.add_argument("--seed", type=cli_types.seed, default=0, metavar="N",
                   help="seed of the strategy's random choices (default 0)")
    add_transport_arguments(p)
    journal_options.add_arguments(p)
    shared_store.add_arguments(p)


def run(args: argparse.Namespace) -> int:
    """Run ``orderpace live``; return the exit code (see the module docstring)."""
    from strategies.params import ParameterError
    from strategies.registry import StrategyError

    keys = live_keys.load_keys(args.credentials_file)
    credentials = keys[0]
    try:
        config = LiveConfig(
            strategy=args.strategy, tier=args.tier, pairs=args.pairs, duration=args.duration,
            settings=tuple(args.settings), base_url=args.base_url, dry_run=args.dry_run,
            on_exit=args.on_exit, decay_step=args.decay_step,
            jitter=None if args.jitter_ms is None else args.jitter_ms / 1000.0,
            poll_interval=args.poll_interval, timeout=args.timeout, seed=args.seed,
            transport=transport_from_args(args),
            engine=EngineSettings(nonce_window=getattr(args, "nonce_window", 0)),
            **journal_options.live_settings(args, credentials.key),
            store=args.store, account=args.account, store_lease=args.store_lease,
        )
    except MarginTooLarge as e:
        raise UsageError(_margin_message(e, args)) from None
    except (LiveError, ValueError) as e:
        raise UsageError(str(e)) from None
    verbose = getattr(args, "verbose", 0)
    configure_live_logging(sys.stderr, level=logging.DEBUG if verbose else logging.INFO,
                           secrets=tuple(k.secret for k in keys))
    if config.base_url.rstrip("/") == DEFAULT_BASE_URL and not config.dry_run:
        print(f"{_PROG}: trading LIVE on {DEFAULT_BASE_URL} with key {credentials.key_prefix} "
              "(Ctrl-C stops and cancels open orders)", file=sys.stderr, flush=True)
    try:
        ended = asyncio.run(_run_until_signal(config, keys))
    except (StrategyError, ParameterError) as e:
        raise UsageError(str(e)) from None
    except LiveError as e:
        print(f"{_PROG}: error: {e}", file=sys.stderr)
        return 1
    result = ended.result
    if result is None:
        print(f"{_PROG}: aborted", file=sys.stderr)
        return _signal_exit(ended.signum)
    summary = result.summary
    if args.json:
        print(_json_line(result))
    else:
        print(summary.render())
        print(live_keys.render_fills(result.fills))
    if summary.failure:
        print(f"{_PROG}: the run failed: {summary.failure}", file=sys.stderr)
        return 1
    if result.interrupted:
        return _signal_exit(ended.signum)
    return 0


def _margin_message(e: MarginTooLarge, args: argparse.Namespace) -> str:
    """``e`` named as the flag the user gave, in its unit (``--jitter-ms``: milliseconds)."""
    tier = e.tier.value
    if e.setting == "jitter":
        with_step = "" if args.decay_step is None else f" with --decay-step {args.decay_step:g}"
        return (f"argument --jitter-ms: {args.jitter_ms:g} ms is too large for the {tier} "
                f"tier: {e.problem}; the largest the tier allows{with_step} is "
                f"{round(e.largest * 1000):g} ms")
    also = ("" if e.jitter_largest is None else
            f", and --jitter-ms at most {round(e.jitter_largest * 1000):g} ms with it")
    return (f"argument --decay-step: {args.decay_step:g} s is too large for the {tier} tier: "
            f"{e.problem}; the largest the tier allows is {e.largest:g} s{also}")


def _signal_exit(signum: int | None) -> int:
    """The exit status of a run stopped by ``signum`` (None, a stop from elsewhere: SIGINT's)."""
    return _SIGNAL_EXIT + (signum if signum is not None else signal.SIGINT)


def _json_line(result: LiveResult) -> str:
    return json.dumps(result.as_dict(), separators=(",", ":"), default=str)


async def _run_until_signal(config: LiveConfig,
                            credentials: Credentials | tuple[Credentials, ...]) -> _Ended:
    """Run; the first SIGINT/SIGTERM stops cleanly, a second aborts (result None)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    ended = _Ended(None)
    main = asyncio.current_task()
    signals = (signal.SIGINT, signal.SIGTERM)

    def on_signal(signum: int) -> None:
        if not stop.is_set():
            ended.signum = signum
            print(f"{_PROG}: stopping (on exit: {config.on_exit}); press Ctrl-C again to abort",
                  file=sys.stderr, flush=True)
            stop.set()
        elif main is not None:
            main.cancel()

    for sig in signals:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal, int(sig))
    try:
        ended.result = await run_live(config, credentials, stop=stop)
    except asyncio.CancelledError:
        ended.result = None
    finally:
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return ended


COMMAND = Subcommand(
    "live", "run a strategy against Kraken or a Kraken-compatible server", configure, run,
)
