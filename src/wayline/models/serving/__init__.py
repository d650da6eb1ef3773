"""The scoring server (``wayline models serve``): MLflow's scoring protocol with micro-batching and
registry alias following. Import :mod:`wayline.models.serving.app` for the ASGI app and
:mod:`wayline.models.serving.serve` to run it; this package itself imports nothing heavy."""
