"""Flavors: one module per framework, each with save_model, log_model, load_model and load_pyfunc."""
