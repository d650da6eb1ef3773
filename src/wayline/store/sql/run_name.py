"""Generated run names in the ``adjective-noun-NNN`` style (``brave-otter-417``)."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "agile", "amber", "bold", "brave", "bright", "calm", "clever", "crisp", "daring", "eager",
    "fancy", "gentle", "glad", "golden", "grand", "happy", "hidden", "honest", "jolly", "keen",
    "kind", "lively", "lucky", "merry", "mighty", "nimble", "noble", "patient", "polite", "proud",
    "quick", "quiet", "rapid", "royal", "shiny", "silent", "smooth", "steady", "swift", "tidy",
    "vivid", "warm", "wise", "witty", "zesty",
)  # fmt: skip
_NOUNS = (
    "ant", "badger", "bear", "bee", "bison", "cat", "crane", "deer", "dolphin", "eagle",
    "falcon", "finch", "fox", "frog", "gecko", "goat", "hare", "hawk", "heron", "horse",
    "ibis", "koala", "lark", "lemur", "lion", "lynx", "mole", "moose", "newt", "otter",
    "owl", "panda", "puffin", "quail", "raven", "robin", "seal", "shark", "sloth", "snail",
    "swan", "tiger", "toad", "whale", "wolf", "yak", "zebra",
)  # fmt: skip

_random = random.SystemRandom()


def generate_run_name() -> str:
    """A readable, probably unique run name; uniqueness is not required (runs are identified by run_id)."""
    return f"{_random.choice(_ADJECTIVES)}-{_random.choice(_NOUNS)}-{_random.randint(0, 999):03d}"


__all__ = ["generate_run_name"]
