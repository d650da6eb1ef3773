"""What a run records about where it ran: the system tags and the environment artifacts.

Every new run started through the fluent API gets the tags of :data:`SYSTEM_TAG_KEYS` (those that can be
known) and two artifacts, :data:`REQUIREMENTS_ARTIFACT` and :data:`PYTHON_ARTIFACT`. Git facts come from
running ``git`` (an argument list, never a shell, with a short timeout) in the entry point's directory;
without git or outside a repository those tags are left out. Everything is computed once per process (git
once per directory) so that ``start_run`` stays cheap. ``WAYLINE_DISABLE_SYSTEM_TAGS=1`` turns all of it off.
"""

from __future__ import annotations

import functools
import getpass
import logging
import os
import platform
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from wayline.flags import is_true

log = logging.getLogger(__name__)

USER = "mlflow.user"
SOURCE_NAME = "mlflow.source.name"
SOURCE_TYPE = "mlflow.source.type"
GIT_COMMIT = "mlflow.source.git.commit"
GIT_BRANCH = "mlflow.source.git.branch"
GIT_REPO_URL = "mlflow.source.git.repoURL"
GIT_DIRTY = "wayline.source.git.dirty"
HOST = "wayline.host"
PYTHON_VERSION = "wayline.python.version"
PLATFORM = "wayline.platform"
PARENT_RUN_ID = "mlflow.parentRunId"
NOTE = "mlflow.note.content"

SYSTEM_TAG_KEYS = (
    USER,
    SOURCE_NAME,
    SOURCE_TYPE,
    GIT_COMMIT,
    GIT_BRANCH,
    GIT_REPO_URL,
    GIT_DIRTY,
    HOST,
    PYTHON_VERSION,
    PLATFORM,
)

USER_ENV = "WAYLINE_USER"
DISABLE_ENV = "WAYLINE_DISABLE_SYSTEM_TAGS"
REQUIREMENTS_ARTIFACT = "wayline/environment/requirements.txt"
PYTHON_ARTIFACT = "wayline/environment/python.txt"
GIT_TIMEOUT_SECONDS = 2.0

# scp-like git remotes: ``user@host:path`` (no scheme).
_SCP_LIKE = re.compile(r"^(?P<user>[^@/]+)@(?P<host>[^:/]+):(?P<path>.*)$")


def system_tags_disabled() -> bool:
    """True when ``WAYLINE_DISABLE_SYSTEM_TAGS`` is ``1``/``true``/``yes``/``on``."""
    return is_true(os.environ.get(DISABLE_ENV))


def current_user() -> str:
    """``WAYLINE_USER``, else the login name, else ``unknown``."""
    user = os.environ.get(USER_ENV, "").strip()
    if user:
        return user
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return "unknown"


def source_name(argv0: str | None = None) -> str:
    """The entry point: ``sys.argv[0]`` made absolute, ``<notebook>`` in Jupyter, else ``<console>``."""
    if "ipykernel" in sys.modules:
        return "<notebook>"
    if argv0 is None:
        argv0 = sys.argv[0] if sys.argv else ""
    if not argv0 or argv0 in ("-c", "-"):
        return "<console>"
    return os.path.abspath(argv0)


def strip_credentials(url: str) -> str:
    """A git remote URL without ``user:password@`` (or token) and without a query or fragment.

    ``https://user:token@host/repo.git`` becomes ``https://host/repo.git``; an scp-like ``git@host:org/repo``
    keeps its plain user name, which is not a secret, but ``user:secret@host:repo`` loses it.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host: keep nothing that could be a secret
        return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/]*@", r"\1", url).split("?")[0].split("#")[0]
    if parts.scheme and parts.netloc:
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    match = _SCP_LIKE.match(url)
    if match and ":" in match["user"]:
        return f"{match['host']}:{match['path']}"
    return url


def _run_git(args: list[str], cwd: Path) -> str | None:
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("git %s failed in %s: %s", args[0], cwd, exc)
        return None
    if done.returncode != 0:
        return None
    return done.stdout


@functools.lru_cache(maxsize=32)
def git_info(directory: str) -> dict[str, str]:
    """The git tags for a working tree (commit, branch, origin URL without credentials, dirty flag).

    Empty when git is missing or ``directory`` is not in a repository. Cached per directory.
    """
    cwd = Path(directory)
    if not cwd.is_dir():
        return {}
    status = _run_git(["status", "--porcelain=v2", "--branch", "--untracked-files=no"], cwd)
    if status is None:
        return {}
    tags: dict[str, str] = {}
    dirty = False
    for line in status.splitlines():
        if line.startswith("# branch.oid "):
            oid = line[len("# branch.oid ") :].strip()
            if oid != "(initial)":
                tags[GIT_COMMIT] = oid
        elif line.startswith("# branch.head "):
            head = line[len("# branch.head ") :].strip()
            if head != "(detached)":
                tags[GIT_BRANCH] = head
        elif line and not line.startswith("#"):
            dirty = True
    tags[GIT_DIRTY] = "true" if dirty else "false"
    remote = _run_git(["config", "--get", "remote.origin.url"], cwd)
    if remote and remote.strip():
        tags[GIT_REPO_URL] = strip_credentials(remote)
    return tags


@functools.lru_cache(maxsize=1)
def _machine_tags() -> dict[str, str]:
    return {
        HOST: socket.gethostname(),
        PYTHON_VERSION: platform.python_version(),
        PLATFORM: f"{platform.system()}-{platform.release()}-{platform.machine()}",
    }


def system_tags() -> dict[str, str]:
    """The tags a new run records by itself (empty when disabled)."""
    if system_tags_disabled():
        return {}
    source = source_name()
    tags = {USER: current_user(), SOURCE_NAME: source, SOURCE_TYPE: "LOCAL"}
    directory = os.path.dirname(source) if os.path.isfile(source) else os.getcwd()
    tags.update(git_info(directory))
    tags.update(_machine_tags())
    return tags


def _metadata_header(text: str) -> tuple[str | None, str | None]:
    name = version = None
    for line in text.splitlines():
        if not line:
            break
        if line.startswith("Name:"):
            name = line[5:].strip()
        elif line.startswith("Version:"):
            version = line[8:].strip()
    return name, version


@functools.lru_cache(maxsize=1)
def installed_packages() -> tuple[str, ...]:
    """``name==version`` of every installed distribution, sorted case-insensitively; computed once."""
    import importlib.metadata

    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        try:
            text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
        except OSError:
            continue
        name, version = _metadata_header(text)
        if name and version:
            # The first one on sys.path is the one Python imports.
            found.setdefault(re.sub(r"[-_.]+", "-", name).lower(), f"{name}=={version}")
    return tuple(sorted(found.values(), key=str.lower))


def environment_files() -> dict[str, str]:
    """The environment artifacts of a new run: artifact path -> text (empty when disabled)."""
    if system_tags_disabled():
        return {}
    return {
        REQUIREMENTS_ARTIFACT: "".join(f"{line}\n" for line in installed_packages()),
        PYTHON_ARTIFACT: f"{platform.python_version()}\n",
    }


__all__ = [
    "DISABLE_ENV",
    "PYTHON_ARTIFACT",
    "REQUIREMENTS_ARTIFACT",
    "SYSTEM_TAG_KEYS",
    "USER_ENV",
    "current_user",
    "environment_files",
    "git_info",
    "installed_packages",
    "source_name",
    "strip_credentials",
    "system_tags",
    "system_tags_disabled",
]
