"""The registry data set: seeded registered models with tags, their versions, the queries and the answers.

Model ``i`` is named ``model-<i>`` and has one tag per key of :data:`MODEL_TAGS`, each drawn uniformly from
that key's vocabulary, so the three-tag filter (:data:`MODEL_FILTER_TAGS`) matches about one model in 120.
The first ``versions // versions_per_model`` models have ``versions_per_model`` versions each (numbered from
1), each version with the tags of :data:`VERSION_TAG_KEYS`. The expected answers are computed here, in
Python, from the same seeded data that both products store.

Standard library only.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

#: The tags of every registered model: key -> vocabulary.
MODEL_TAGS: dict[str, tuple[str, ...]] = {
    "team": ("vision", "nlp", "speech", "ranking", "fraud"),
    "task": ("classification", "regression", "detection", "generation"),
    "framework": ("pytorch", "sklearn", "xgboost", "tensorflow", "jax", "lightgbm"),
    "env": ("dev", "staging", "prod"),
    "cost_center": tuple(f"cc-{n}" for n in range(10)),
}
#: The registered-model search: these three tags, AND-ed (5 × 4 × 6 = 1 model in 120).
MODEL_FILTER_TAGS: tuple[tuple[str, str], ...] = (
    ("team", "vision"),
    ("task", "classification"),
    ("framework", "pytorch"),
)
MODEL_MAX_RESULTS = 100
#: The tags of every model version.
VERSION_DATASETS = tuple(f"dataset-2026-{month:02d}" for month in range(1, 13))
VERSION_TAG_KEYS = ("dataset", "git_sha")
#: The model-version search asks for every version of one model in one page.
VERSION_MAX_RESULTS = 1000
#: The model searched by name, when it has versions (else the last model with versions).
QUERY_MODEL_INDEX = 123


@dataclass(frozen=True)
class Model:
    index: int
    name: str
    tags: dict[str, str]


@dataclass(frozen=True)
class Version:
    model_index: int
    name: str
    version: int
    tags: dict[str, str]


@dataclass(frozen=True)
class Dataset:
    """Everything both products store, and the two queries with their expected answers."""

    models: list[Model]
    versions_per_model: int
    versioned_models: int
    seed: int

    @property
    def version_count(self) -> int:
        return self.versions_per_model * self.versioned_models

    def versions(self, start: int = 0) -> Iterator[Version]:
        """Versions in (model, version) order from the ``start``-th; the tags are seeded per version, so
        any slice is the same data."""
        per = self.versions_per_model
        for position in range(start, self.version_count):
            model_index, offset = divmod(position, per)
            number = offset + 1
            rng = random.Random(f"{self.seed}:{model_index}:{number}")
            tags = {
                "dataset": rng.choice(VERSION_DATASETS),
                "git_sha": f"{rng.getrandbits(40):010x}",
            }
            yield Version(model_index, model_name(model_index), number, tags)

    # -- the queries ---------------------------------------------------------------------------------------
    @property
    def model_filter(self) -> str:
        return " AND ".join(f"tags.{key}='{value}'" for key, value in MODEL_FILTER_TAGS)

    def expected_models(self) -> list[str]:
        """The names the tag search must return: the matches in name order (MLflow's default order, byte
        order; the names differ only in their digits), the first page of them."""
        hits = [m.name for m in self.models if all(m.tags[k] == v for k, v in MODEL_FILTER_TAGS)]
        return sorted(hits)[:MODEL_MAX_RESULTS]

    def matching_models(self) -> int:
        return sum(all(m.tags[k] == v for k, v in MODEL_FILTER_TAGS) for m in self.models)

    @property
    def query_model(self) -> str:
        index = QUERY_MODEL_INDEX if self.versioned_models > QUERY_MODEL_INDEX else self.versioned_models - 1
        return model_name(index)

    @property
    def version_filter(self) -> str:
        return f"name='{self.query_model}'"

    def expected_versions(self) -> set[tuple[str, int]]:
        return {(self.query_model, number) for number in range(1, self.versions_per_model + 1)}


def model_name(index: int) -> str:
    return f"model-{index}"


def build(models: int, versions: int, versions_per_model: int, seed: int) -> Dataset:
    """The seeded data set: ``models`` registered models, ``versions`` versions over the first
    ``versions // versions_per_model`` of them."""
    if versions % versions_per_model:
        raise ValueError("--versions must be a multiple of --versions-per-model")
    versioned = versions // versions_per_model
    if not 1 <= versioned <= models:
        raise ValueError("--versions / --versions-per-model must be between 1 and --models")
    if versions_per_model > VERSION_MAX_RESULTS:
        raise ValueError(f"--versions-per-model must be at most {VERSION_MAX_RESULTS} (one page)")
    rng = random.Random(seed)
    keys = sorted(MODEL_TAGS)
    rows = [
        Model(i, model_name(i), {key: rng.choice(MODEL_TAGS[key]) for key in keys}) for i in range(models)
    ]
    return Dataset(rows, versions_per_model, versioned, seed)
