"""Several processes, one account: the budget shared through Redis.

* :mod:`engine.shared.store_url` -- ``--store`` / ``--account``, checked before anything is sent;
* :mod:`engine.shared.scripts` -- the Lua steps (decaying counters, open-order slots, nonces);
* :mod:`engine.shared.budget` -- :class:`RedisBudget`, the engine's ``Budget`` over Redis;
* :mod:`engine.shared.server` -- a local ``redis-server`` for the tests and the bench.
"""
