"""``models:/`` URIs: parsing them, resolving them through the registry, and downloading a version's files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from client.helpers import unique
from wayline.artifacts.resolve import ModelUri, get_artifact_repository, parse_model_uri
from wayline.client.client import WaylineClient
from wayline.entities import FileInfo
from wayline.entities.registry import Stage
from wayline.errors import InvalidParameterValue, ResourceNotFound


# -- parsing ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("models:/churn/3", ModelUri("churn", version=3)),
        ("models:/churn/latest", ModelUri("churn", latest=True)),
        ("models:/churn/LATEST", ModelUri("churn", latest=True)),
        ("models:/churn/production", ModelUri("churn", stage=Stage.PRODUCTION)),
        ("models:/churn/None", ModelUri("churn", stage=Stage.NONE)),
        ("models:/churn@champion", ModelUri("churn", alias="champion")),
        ("models:/a@b@prod", ModelUri("a@b", alias="prod")),
        ("models:/churn/3/MLmodel", ModelUri("churn", version=3, path="MLmodel")),
        ("models:/churn@champion/data/x.bin", ModelUri("churn", alias="champion", path="data/x.bin")),
        ("models:///churn/1", ModelUri("churn", version=1)),
        ("MODELS:/churn/2", ModelUri("churn", version=2)),
    ],
)
def test_model_uris_parse(uri: str, expected: ModelUri) -> None:
    assert parse_model_uri(uri) == expected


@pytest.mark.parametrize(
    "uri",
    [
        "models:/churn/",
        "models:/churn/Prod",
        "models:/@alias",
        "models:/churn@",
        "models:/",
        "runs:/abc/model",
        "churn/3",
        "models://profile/churn/3",
        "models:/churn/3?x=1",
        "models:/churn/3#frag",
        "models:/churn/3/../../etc/passwd",
        "models:/churn/3/%2e%2e/secret",
        "models:/churn@a/..%2f..%2fx",
        "models:/churn/3//etc/passwd/..",
        " models:/churn/3",
    ],
)
def test_bad_model_uris_are_refused_naming_the_field(uri: str) -> None:
    with pytest.raises(InvalidParameterValue, match="model_uri"):
        parse_model_uri(uri)


def test_the_artifact_layer_keeps_refusing_model_uris() -> None:
    with pytest.raises(InvalidParameterValue, match="unsupported artifact URI scheme 'models'"):
        get_artifact_repository("models:/churn/1")


# -- resolving ----------------------------------------------------------------------------------------------
@pytest.fixture
def churn(client: WaylineClient, tmp_path: Path) -> str:
    """Versions 1-3 of a model from one run: 1 Archived, 2 Production (alias champion), 3 Staging; version
    3's files differ from the others'."""
    run = client.create_run(client.create_experiment(unique("exp")))
    for path, weights in (("model-a", b"A" * 300), ("model-b", b"B" * 500)):
        folder = tmp_path / path
        (folder / "data").mkdir(parents=True)
        (folder / "MLmodel").write_text(f"flavors: {{}}\nname: {path}\n", encoding="utf-8")
        (folder / "data" / "weights.bin").write_bytes(weights)
        client.log_artifacts(run.info.run_id, folder, path)
    name = unique("churn")
    for path in ("model-a", "model-a", "model-b"):
        client.register_model(f"runs:/{run.info.run_id}/{path}", name)
    client.transition_model_version_stage(name, 1, "Archived")
    client.transition_model_version_stage(name, 2, "Production")
    client.transition_model_version_stage(name, 3, "Staging")
    client.set_registered_model_alias(name, "champion", 2)
    return name


@pytest.mark.parametrize(
    ("suffix", "version"),
    [("/1", 1), ("@champion", 2), ("/Production", 2), ("/staging", 3), ("/latest", 3), ("/Archived", 1)],
)
def test_model_uris_resolve_to_their_version(
    client: WaylineClient, churn: str, suffix: str, version: int
) -> None:
    assert client.resolve_model_uri(f"models:/{churn}{suffix}").version == version


def test_download_uri_of_a_model_uri(client: WaylineClient, churn: str) -> None:
    v3 = client.get_model_version(churn, 3)
    assert client.get_model_download_uri(f"models:/{churn}/3") == v3.source
    assert client.get_model_download_uri(f"models:/{churn}/latest/MLmodel") == f"{v3.source}/MLmodel"
    assert client.get_model_download_uri(f"models:/{churn}@champion").endswith("/model-a")


def test_unresolvable_model_uris(client: WaylineClient, churn: str) -> None:
    with pytest.raises(ResourceNotFound):
        client.resolve_model_uri(f"models:/{churn}/9")
    with pytest.raises(InvalidParameterValue, match="alias"):
        client.resolve_model_uri(f"models:/{churn}@nobody")
    with pytest.raises(ResourceNotFound):
        client.resolve_model_uri(f"models:/{unique('nobody')}/latest")
    client.transition_model_version_stage(churn, 3, "None")
    with pytest.raises(ResourceNotFound, match="Staging"):
        client.resolve_model_uri(f"models:/{churn}/Staging")


# -- downloading --------------------------------------------------------------------------------------------
class Recorder:
    def __init__(self) -> None:
        self.files: list[str] = []
        self.done: list[str] = []
        self.total = 0

    def start(self, files: Sequence[FileInfo]) -> None:
        self.files = [f.path for f in files]
        self.total = sum(f.file_size or 0 for f in files)

    def advance(self, file: FileInfo) -> None:
        self.done.append(file.path)


def test_download_a_whole_version(client: WaylineClient, churn: str, tmp_path: Path) -> None:
    local = Path(client.download_model(f"models:/{churn}@champion", tmp_path / "out"))
    assert local == tmp_path / "out"
    assert (local / "MLmodel").read_text(encoding="utf-8").endswith("name: model-a\n")
    assert (local / "data" / "weights.bin").read_bytes() == b"A" * 300


def test_download_reports_progress_per_file(client: WaylineClient, churn: str, tmp_path: Path) -> None:
    recorder = Recorder()
    local = Path(client.download_model(f"models:/{churn}/Staging", tmp_path / "out", progress=recorder))
    assert sorted(recorder.files) == sorted(recorder.done)
    assert len(recorder.files) == 2
    assert recorder.total == 500 + len("flavors: {}\nname: model-b\n")
    assert (local / "data" / "weights.bin").read_bytes() == b"B" * 500


def test_download_one_file_of_a_version(client: WaylineClient, churn: str, tmp_path: Path) -> None:
    recorder = Recorder()
    uri = f"models:/{churn}/3/data/weights.bin"
    local = Path(client.download_model(uri, tmp_path / "one", progress=recorder))
    assert local == tmp_path / "one" / "data" / "weights.bin"
    assert local.read_bytes() == b"B" * 500
    plain = Path(client.download_model(uri, tmp_path / "two"))
    assert plain.read_bytes() == b"B" * 500


def test_download_without_a_destination_uses_a_private_temporary_directory(
    client: WaylineClient, churn: str
) -> None:
    local = Path(client.download_model(f"models:/{churn}/1"))
    assert (local / "MLmodel").is_file()
    assert local.stat().st_mode & 0o077 == 0


def test_download_refuses_other_uris(client: WaylineClient, churn: str, tmp_path: Path) -> None:
    for uri in ("runs:/abc/model", str(tmp_path), f"models:/{churn}/1/../../x"):
        with pytest.raises(InvalidParameterValue, match="model_uri"):
            client.download_model(uri, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_register_from_a_model_uri_keeps_the_lineage(client: WaylineClient, churn: str) -> None:
    copy = unique("copy")
    version = client.register_model(f"models:/{churn}@champion", copy)
    assert version.source == f"models:/{churn}/2"
    original = client.get_model_version(churn, 2)
    assert version.run_id == original.run_id
    assert client.get_model_version_download_uri(copy, 1) == original.source
    assert client.get_model_download_uri(f"models:/{copy}/1") == original.source


def test_a_single_segment_names_a_logged_model() -> None:
    assert parse_model_uri("models:/m-0123abcd") == ModelUri(model_id="m-0123abcd")


def test_resolving_a_logged_model_uri_as_a_version_is_refused(tmp_path: Path) -> None:
    with (
        WaylineClient(str(tmp_path / "store")) as client,
        pytest.raises(InvalidParameterValue, match=r"model_uri.*logged model"),
    ):
        client.resolve_model_uri("models:/m-0123abcd")
