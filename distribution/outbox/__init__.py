"""The delivery outbox: a lead pushed to a partner's or buyer's system, never lost.

A ``Delivery`` row is written in the same transaction as the hand-over that
causes it (``queueing``) and sent by a drain job once that transaction commits
(``drain``). Sending starts with a conditional UPDATE that leases a batch of rows
(``lease``), so two workers, a sweeper re-enqueue and a redelivered RQ job can
never send one delivery at the same time; a worker killed mid-send leaves a lease
that runs out, and the sweeper hands the delivery on. Every send is one
``DeliveryAttempt`` with its request and answer (``record``).

Retries follow ``record.RETRY_SCHEDULE`` (with jitter) for timeouts, connection
errors, 408, 429 and 5xx; a clear rejection is final. After the last attempt the
delivery is failed and waits in the dead-letter view for a person to retry it
(``manual``). A destination whose deliveries keep failing is paused, and the
vendor sees it. Whatever put a delivery in the outbox, the drain first checks that
what it carries is still true (``truth``: the offer open, the lead still held, the
sale standing); one that is not is cancelled with the reason and never sent.

The modules, leaves first (a leaf imports nothing from this package but ``facts``):

* ``facts`` (leaf): what the outbox reads of a delivery, assignment or sale, whether an
  ORM object or the Core row a drain read;
* ``payload`` (leaf): the lead as connectors take it, and the SSRF guard's allowed hosts;
* ``links`` (leaf): the signed links a send carries (offer accept/decline, fax status);
* ``lanes`` (leaf): the threads exchanges run on, and how quickly each destination answers;
* ``truth`` (leaf): whether what a delivery carries is still true when it would go out;
* ``lease``: which deliveries are due, and leasing them;
* ``record``: writing what a send did (attempts, events, retries, pauses);
* ``drain``: the job that sends everything due, batch after batch;
* ``queueing``: adding deliveries to the outbox;
* ``manual``: what people do: retry by hand, resume a destination, fax status.

This file imports nothing, so importing a leaf never pulls in the rest.
"""
