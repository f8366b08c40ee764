"""Tests of the simulated Kraken exchange (engine.sim) and engine.markets."""
