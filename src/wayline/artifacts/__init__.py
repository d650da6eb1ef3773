"""Artifact stores: one protocol, implementations chosen by URI scheme, and the path rules they all share."""

from wayline.artifacts.local import LocalArtifactRepository
from wayline.artifacts.path import safe_relative_path
from wayline.artifacts.repository import ArtifactRepository
from wayline.artifacts.resolve import get_artifact_repository, join_artifact_uri

__all__ = [
    "ArtifactRepository",
    "LocalArtifactRepository",
    "get_artifact_repository",
    "join_artifact_uri",
    "safe_relative_path",
]
