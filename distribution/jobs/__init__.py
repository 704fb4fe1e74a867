"""Background work of the domain, referenced by function.

* ``runner``: ``after_commit`` (work to run once the current transaction commits,
  coalesced by key), ``enqueue`` and the runner behind both: RQ on Redis when it
  answers, a worker thread in this process otherwise;
* ``schedule``: the periodic sweeper, kept going on RQ's scheduler or on a timer.

Nothing here imports the portal: the portal hands its app (or app factory) to
``runner`` for worker processes. This file imports nothing, so that importing
``runner`` never pulls in the sweeper and what it imports.
"""
