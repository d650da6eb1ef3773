"""Container images of a model: ``wayline models build-docker``.

:func:`build_docker_context` writes a Docker build context::

    Dockerfile                  pinned slim Python base, non-root user, HEALTHCHECK on /ping
    model/                      the model directory (MLmodel, its files, requirements.txt)
    requirements-serving.txt    what the scoring server needs beyond the model's own requirements
    wheels/wayline-*.whl        Wayline itself, built from its source tree

The image installs the model's ``requirements.txt``, the serving requirements and the Wayline wheel, and runs
``wayline models serve -m /opt/wayline/model --host 0.0.0.0 --port 8080``. :func:`build_docker` also runs
``docker build`` (an argument list, never a shell) when a Docker engine answers.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from wayline.errors import InvalidState, invalid_value

log = logging.getLogger(__name__)

MODEL_DIR_IN_IMAGE = "/opt/wayline/model"
PORT_IN_IMAGE = 8080
#: Pinned slim bases, by the model's Python minor version.
BASE_IMAGES: dict[str, str] = {
    "3.10": "python:3.10.16-slim-bookworm",
    "3.11": "python:3.11.11-slim-bookworm",
    "3.12": "python:3.12.8-slim-bookworm",
    "3.13": "python:3.13.1-slim-bookworm",
}
#: What the scoring server imports beyond Wayline's own dependencies.
SERVING_PACKAGES = ("pandas", "numpy")
_IMAGE_NAME = re.compile(
    r"(?:[A-Za-z0-9][A-Za-z0-9.-]*(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
)
_BASE_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:-]*(?:@sha256:[0-9a-f]{64})?")
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_OUTPUT_TAIL = 2000


@dataclass(frozen=True)
class DockerContext:
    """A written build context."""

    path: Path
    dockerfile: Path
    model_dir: Path
    wheel: Path
    base_image: str


def check_image_name(name: str) -> str:
    """``name`` if it is a valid image reference (``[registry/]repo[:tag]``), else INVALID_PARAMETER_VALUE."""
    if not _IMAGE_NAME.fullmatch(name) or len(name) > 255:
        raise invalid_value("name", name, "not a valid image name: lower-case [registry/]repository[:tag]")
    return name


def default_base_image(python_version: str | None = None) -> str:
    """The pinned base for a Python version (``3.11`` or ``3.11.7``; the running one when None)."""
    minor = ".".join((python_version or f"{sys.version_info.major}.{sys.version_info.minor}").split(".")[:2])
    if minor not in BASE_IMAGES:
        raise invalid_value(
            "base_image",
            None,
            f"no pinned base for Python {minor}: pass --base-image (python:{minor}-slim...)",
        )
    return BASE_IMAGES[minor]


def _model_python(model_dir: Path) -> str | None:
    """The Python version in the model's ``python_env.yaml``, when it names one."""
    import yaml

    env_file = model_dir / "python_env.yaml"
    if not env_file.is_file():
        return None
    try:
        data = yaml.safe_load(env_file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        raise invalid_value("python_env.yaml", str(env_file), "not a YAML file") from None
    version = data.get("python") if isinstance(data, dict) else None
    if version is None:
        return None
    text = str(version).strip()
    if not re.fullmatch(r"3\.\d+(\.\d+)?", text):
        raise invalid_value("python_env.yaml python", text, "expected a Python version such as 3.11.7")
    return text


def _copy_model(source: Path, target: Path) -> None:
    """Copy the model's regular files; a symlink leading out of the model directory is refused."""
    root = source.resolve()
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            raise invalid_value(
                "model_uri", str(source), f"{relative.as_posix()} is a symlink out of the model"
            )
        if path.is_dir():
            (target / relative).mkdir(parents=True, exist_ok=True)
        elif path.is_file():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / relative)


def source_tree() -> Path:
    """The project root of the running Wayline (``src`` layout); INVALID_STATE when it is not installed from
    a source tree."""
    import wayline

    package = Path(wayline.__file__).resolve().parent
    root = package.parent.parent
    pyproject = root / "pyproject.toml"
    named = pyproject.is_file() and re.search(
        r'^name\s*=\s*"wayline"\s*$', pyproject.read_text(encoding="utf-8"), re.MULTILINE
    )
    if package.parent.name != "src" or not named:
        raise InvalidState(
            f"cannot package Wayline for the image: it is not installed from its source tree ({package}); "
            "install it with `pip install -e <wayline checkout>` and build again"
        )
    return root


def build_wheel(wheel_dir: Path) -> Path:
    """A wheel of the running Wayline, built from its source tree into ``wheel_dir`` (``pip wheel``)."""
    root = source_tree()
    wheel_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(wheel_dir)]
    try:
        importlib.metadata.version("hatchling")
        command.append("--no-build-isolation")  # the build backend is here: no download needed
    except importlib.metadata.PackageNotFoundError:
        pass
    log.info("building the Wayline wheel from %s", root)
    done = subprocess.run([*command, str(root)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout)[-_OUTPUT_TAIL:]
        raise InvalidState(f"building the Wayline wheel from {root} failed: {tail}")
    wheels = sorted(wheel_dir.glob("wayline-*.whl"))
    if not wheels:
        raise InvalidState(f"building the Wayline wheel from {root} left no wheel in {wheel_dir}")
    return wheels[-1]


def _requirement_names(requirements: Path) -> set[str]:
    names: set[str] = set()
    if requirements.is_file():
        for line in requirements.read_text(encoding="utf-8").splitlines():
            match = _REQUIREMENT_NAME.match(line)
            if match and not line.lstrip().startswith("-"):
                names.add(re.sub(r"[-_.]+", "-", match.group(1)).lower())
    return names


def serving_requirements(model_requirements: Path) -> list[str]:
    """The serving packages the model's requirements do not name, pinned to the versions installed here."""
    named = _requirement_names(model_requirements)
    lines = []
    for package in SERVING_PACKAGES:
        if package in named:
            continue
        try:
            lines.append(f"{package}=={importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            lines.append(package)
    return lines


def dockerfile_text(
    *, base_image: str, wheel_name: str, workers: int | None, trusted: bool, image_name: str | None
) -> str:
    """The Dockerfile of a build context (every value in it is validated by the caller)."""
    from wayline import __version__

    serve = ["wayline", "models", "serve", "-m", MODEL_DIR_IN_IMAGE, "--host", "0.0.0.0"]
    serve += ["--port", str(PORT_IN_IMAGE)]
    if workers is not None:
        serve += ["--workers", str(workers)]
    entrypoint = ", ".join(f'"{part}"' for part in serve)
    probe = (
        f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{PORT_IN_IMAGE}/ping', timeout=4)"
    )
    lines = [
        f"# Written by Wayline {__version__}: a model served by `wayline models serve`.",
        f"FROM {base_image}",
        "",
        f'LABEL org.opencontainers.image.title="{image_name or "wayline-model"}" \\',
        f'      io.wayline.version="{__version__}"',
        "ENV PYTHONDONTWRITEBYTECODE=1 \\",
        "    PYTHONUNBUFFERED=1 \\",
        "    PIP_NO_CACHE_DIR=1 \\",
        "    PIP_DISABLE_PIP_VERSION_CHECK=1",
        *(["ENV WAYLINE_TRUSTED_MODELS=true"] if trusted else []),
        "",
        "RUN groupadd --system --gid 10001 wayline \\",
        " && useradd --system --uid 10001 --gid wayline --create-home --home-dir /home/wayline \\",
        "      --shell /usr/sbin/nologin wayline",
        "",
        "# The model (owned by root: read-only for the server), its requirements, then Wayline.",
        f"COPY model/ {MODEL_DIR_IN_IMAGE}/",
        "COPY requirements-serving.txt /opt/wayline/requirements-serving.txt",
        f"COPY wheels/{wheel_name} /tmp/wheels/{wheel_name}",
        f"RUN python -m pip install --no-cache-dir -r {MODEL_DIR_IN_IMAGE}/requirements.txt \\",
        "      -r /opt/wayline/requirements-serving.txt \\",
        f"      /tmp/wheels/{wheel_name} \\",
        " && rm -rf /tmp/wheels",
        "",
        "USER wayline",
        "WORKDIR /home/wayline",
        f"EXPOSE {PORT_IN_IMAGE}",
        "HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \\",
        f'  CMD ["python", "-c", "{probe}"]',
        f"ENTRYPOINT [{entrypoint}]",
        "",
    ]
    return "\n".join(lines)


def build_docker_context(
    model_uri: str,
    out_dir: str | Path,
    image_name: str | None = None,
    *,
    base_image: str | None = None,
    workers: int | None = None,
    trusted: bool = False,
    tracking_uri: str | None = None,
) -> DockerContext:
    """Write the build context of an image serving ``model_uri`` into ``out_dir`` (new or empty).

    ``base_image`` defaults to the pinned slim image of the model's Python version (``python_env.yaml``), else
    of the running one. ``trusted`` bakes ``WAYLINE_TRUSTED_MODELS=true`` into the image (for pickled models
    you trust). ``workers`` is the server's ``--workers``.
    """
    from wayline.models.location import local_model_dir

    if image_name is not None:
        check_image_name(image_name)
    if base_image is not None and (not _BASE_IMAGE.fullmatch(base_image) or len(base_image) > 255):
        raise invalid_value("base_image", base_image, "not a valid image reference")
    if workers is not None and not 1 <= workers <= 256:
        raise invalid_value("workers", workers, "must be between 1 and 256")
    context = Path(out_dir)
    if context.exists() and (not context.is_dir() or any(context.iterdir())):
        raise invalid_value("output_directory", str(context), "exists and is not an empty directory")
    context.mkdir(parents=True, exist_ok=True)
    model_target = context / "model"
    with tempfile.TemporaryDirectory(prefix="wayline-model-") as download:
        source = local_model_dir(model_uri, tracking_uri=tracking_uri, dst_path=download)
        if not (source / "MLmodel").is_file():
            raise invalid_value("model_uri", model_uri, "has no MLmodel file: not a model directory")
        _copy_model(source, model_target)
    if not (model_target / "requirements.txt").is_file():
        raise invalid_value("model_uri", model_uri, "the model has no requirements.txt")
    chosen = base_image or default_base_image(_model_python(model_target))
    (context / "requirements-serving.txt").write_text(
        "".join(f"{line}\n" for line in serving_requirements(model_target / "requirements.txt")),
        encoding="utf-8",
    )
    wheel = build_wheel(context / "wheels")
    dockerfile = context / "Dockerfile"
    dockerfile.write_text(
        dockerfile_text(
            base_image=chosen, wheel_name=wheel.name, workers=workers, trusted=trusted, image_name=image_name
        ),
        encoding="utf-8",
    )
    log.info("wrote the Docker build context of %s to %s", model_uri, context)
    return DockerContext(context, dockerfile, model_target, wheel, chosen)


def docker_engine(docker: str = "docker") -> str:
    """The path of the ``docker`` command when an engine answers ``docker info``; INVALID_STATE otherwise."""
    found = shutil.which(docker)
    if found is None:
        raise InvalidState(
            f"cannot build the image: no {docker!r} command on PATH. Write the build context alone "
            "(--context-only) and run `docker build` where Docker runs"
        )
    try:
        info = subprocess.run([found, "info"], capture_output=True, text=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        info = None
    if info is None or info.returncode != 0:
        reason = " ".join(((info.stderr or info.stdout) if info else "no answer in 30 s").split())[:300]
        raise InvalidState(
            f"cannot build the image: no Docker engine answers `docker info` ({reason}). Write the build "
            "context alone (--context-only) and run `docker build` where an engine runs"
        )
    return found


def build_docker(
    model_uri: str,
    image_name: str,
    *,
    context_dir: str | Path | None = None,
    base_image: str | None = None,
    workers: int | None = None,
    trusted: bool = False,
    tracking_uri: str | None = None,
    docker: str = "docker",
) -> None:
    """Write the build context (into ``context_dir``, else a private temporary folder removed afterwards) and
    run ``docker build --tag image_name``; INVALID_STATE when no Docker engine answers or the build fails."""
    check_image_name(image_name)
    command = docker_engine(docker)
    with tempfile.TemporaryDirectory(prefix="wayline-docker-") as scratch:
        target = Path(context_dir) if context_dir is not None else Path(scratch) / "context"
        context = build_docker_context(
            model_uri,
            target,
            image_name,
            base_image=base_image,
            workers=workers,
            trusted=trusted,
            tracking_uri=tracking_uri,
        )
        log.info("running docker build for %s", image_name)
        done = subprocess.run(
            [command, "build", "--tag", image_name, str(context.path)],
            capture_output=True,
            text=True,
            check=False,
        )
        log.debug("docker build output:\n%s", done.stdout)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout)[-_OUTPUT_TAIL:]
            raise InvalidState(f"docker build of {image_name} failed: {tail}")
    log.info("built image %s", image_name)
