"""Load and performance tooling for the session-management WebSocket service.

``python -m bench`` (``make bench``) load-tests the local environment at several load levels and
writes ``bench/results/``; ``python -m bench --endpoint-from-stack --env staging`` (``make
loadtest``) load-tests a deployed stage and fails when a target of ``bench/targets.json`` is missed.
See ``docs/scaling.md`` for what the figures mean.
"""
