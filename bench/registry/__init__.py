"""Pieces of ``bench/registry_bench.py``, the side-by-side model-registry search benchmark.

``dataset``: the seeded registered models, tags and versions, the two queries and their expected answers.
``populate``: the timed sample through each server's REST API, then the bulk insert into its tables.
``searches``: the timed, checked searches over HTTP.
``report``: the rich table, the notes and the markdown file.

The servers and stores come from ``bench/server`` (``process``, ``products``, ``stores``).
"""
