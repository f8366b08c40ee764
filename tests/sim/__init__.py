"""Tests of the simulated Kraken exchange (engine.exchange) and engine.markets."""
