"""The model-serving benchmark's parts (``bench/models_bench.py``)."""
