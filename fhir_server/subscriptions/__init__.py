"""FHIR Subscriptions over a transactional outbox.

A write that changes a resource records, in its own database transaction, one ``subscription_event`` row per
Subscription it matches (``matching``); after the commit it asks the workers (Celery, ``workers/``) to deliver.
A worker takes a Subscription's lease, numbers its new events in the order they became visible, and sends them in
that order over the Subscription's channel (``delivery``, ``channels/``), retrying with backoff and never dropping
one. Nothing is lost if any process dies at any point: the rows stay until they are sent, and a periodic sweep
finds what no request asked for.
"""
