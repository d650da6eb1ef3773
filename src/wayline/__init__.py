"""Wayline: an open-source platform for the machine-learning lifecycle."""

__version__ = "0.1.0.dev0"
