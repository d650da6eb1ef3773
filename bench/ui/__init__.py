"""Pieces of ``bench/ui_bench.py``, the side-by-side web UI benchmark (Wayline and MLflow, in Chromium).

``dataset``: the seeded runs and the 1M-point metric, and the run each measured view must show first.
``stores``: each product's SQLite store, schema by its own server, rows bulk-inserted, cached.
``profiles``: each UI's URLs, selectors and steps (the one place to change when a UI changes).
``browser``: the timed Playwright attempts, in the page's own clock.
``report``: the table and the JSON document.
"""
