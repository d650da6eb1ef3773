"""Model URIs to local directories: paths, file:, runs:/ (run artifacts), s3:// and refusals."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

import wayline
from models.core.conftest import coef_saver, read_coef
from servers import S3Server
from wayline.errors import InvalidParameterValue, ResourceNotFound
from wayline.models.location import local_model_dir


def test_local_paths_are_used_in_place(tmp_path: Path) -> None:
    model_dir = tmp_path / "my model"
    coef_saver([1.0])(model_dir)
    assert local_model_dir(str(model_dir)) == model_dir
    assert local_model_dir(model_dir.as_uri()) == model_dir
    assert local_model_dir(str(model_dir / "MLmodel")) == model_dir
    with pytest.raises(ResourceNotFound, match=r"No model"):
        local_model_dir(str(tmp_path / "missing"))
    with pytest.raises(InvalidParameterValue, match=r"model_uri"):
        local_model_dir("ftp://host/model")
    with pytest.raises(InvalidParameterValue, match=r"model_uri"):
        local_model_dir("")


def test_runs_uri_with_model_in_the_run_artifacts(tmp_path: Path) -> None:
    coef_saver([7.0])(tmp_path / "m")
    with wayline.start_run() as run:
        wayline.log_artifacts(str(tmp_path / "m"), "plain/model")
    local = local_model_dir(f"runs:/{run.info.run_id}/plain/model")
    assert read_coef(local) == [7.0]
    assert local != tmp_path / "m"
    assert stat.S_IMODE(local.parents[1].stat().st_mode) == 0o700  # the private download directory
    chosen = local_model_dir(f"runs:/{run.info.run_id}/plain/model", dst_path=tmp_path / "chosen")
    assert chosen == tmp_path / "chosen" / "plain" / "model"
    assert read_coef(chosen) == [7.0]
    with pytest.raises(ResourceNotFound, match=r"no logged model named 'nothing'"):
        local_model_dir(f"runs:/{run.info.run_id}/nothing")
    with pytest.raises(InvalidParameterValue, match=r"model_uri"):
        local_model_dir(f"runs:/{run.info.run_id}/../escape")


def test_unknown_logged_model_id() -> None:
    with pytest.raises(ResourceNotFound):
        local_model_dir("models:/m-0123456789abcdef0123456789abcdef")


def test_s3_uri(s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    coef_saver([8.0, 9.0])(tmp_path / "m")
    s3 = s3_server.client()
    prefix = f"models-core/{tmp_path.name}"
    for file in (tmp_path / "m").iterdir():
        s3.upload_file(str(file), s3_server.bucket, f"{prefix}/{file.name}")
    local = local_model_dir(f"s3://{s3_server.bucket}/{prefix}", dst_path=tmp_path / "down")
    assert read_coef(local) == [8.0, 9.0]
    assert {p.name for p in local.iterdir()} == {p.name for p in (tmp_path / "m").iterdir()}
