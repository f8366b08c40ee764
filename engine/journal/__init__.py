"""The journal: a durable record of intents, requests, replies, outcomes, orders and
counter levels (SQLite, WAL, one file per account and key), and recovery on restart.

* :mod:`~engine.journal.writer` -- the file and grouped commits;
* :mod:`~engine.journal.recorder` -- the engine's observer that writes it;
* :mod:`~engine.journal.marks` -- the mark (in every ``cl_ord_id``) of this journal's orders;
* :mod:`~engine.journal.reader` -- what a journal holds;
* :mod:`~engine.journal.reconcile` -- journal + exchange -> what to do (pure);
* :mod:`~engine.journal.recovery` -- doing it at start, paced on the API counter.
"""
