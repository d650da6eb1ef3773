"""Pieces of ``bench/server_bench.py``, the side-by-side REST benchmark of Wayline's and MLflow's servers.

``process``: launching a server process tree, waiting for ``/health``, its memory, stopping it.
``stores``: the fresh metadata store and artifact folder each server gets (SQLite file or PostgreSQL).
``harness``: running the shared REST harness (``rest_bench.py``) against one server.
``figures``: which harness figures are compared, in which direction, against which target.
``report``: the rich table and the markdown file.
"""
