"""The orderpace bench suite: ``orderpace bench [--quick] [--json]`` (or ``make bench``).

It runs seeded workloads against the simulated exchange (the referee) with orderpace and
with the limiters a user would otherwise pick, on every Kraken tier, and measures the
scheduler on its own.  Modules:

* :mod:`benchmarks.loads` -- two bench-only strategies (saturating IOC adds; orders mixed
  with private queries);
* :mod:`benchmarks.workloads` -- the five workloads and their durations;
* :mod:`benchmarks.client` -- the engine surface over a plain limiter (what a user writes
  around asyncio-throttle, aiolimiter, ...);
* :mod:`benchmarks.baselines` -- those limiters, configured for Kraken;
* :mod:`benchmarks.clock` -- the virtual clock, creeping 1 ns per loop iteration;
* :mod:`benchmarks.runner` -- one workload x tier x limiter x seed, measured;
* :mod:`benchmarks.micro` -- the scheduler alone, memory, throughput, the 24 h replay;
* :mod:`benchmarks.suite` -- the whole run, medians and ratios;
* :mod:`benchmarks.report` -- ``latest.json``, ``latest.md`` and the PNG chart;
* :mod:`benchmarks.cli` -- the ``bench`` subcommand.
"""
