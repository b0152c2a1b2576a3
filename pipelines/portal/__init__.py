"""The units' portal: each joint-meeting unit logs in, uploads, and reads its own receipts.

Layering: the portal sits above ingest, review and publish (it calls them) and beside
orchestration; nothing below imports it. The web process (``app``) never opens the DuckDB
warehouse: it archives an upload's bytes, queues it in the portal's own store (``store``) and
reads final receipts from the JSON files the ingest step writes beside the feedback reports.
The worker (``worker``), a separate process, takes queued uploads through the very steps of
``pipelines.ingest.steps`` and records reviewers' decisions through
``pipelines.review.decisions.record_decision``.
"""
