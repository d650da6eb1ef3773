"""Hatch build hook: build the web UI bundle (``ui/build_ui.py``) and ship it in the wheel.

Set ``WAYLINE_SKIP_UI_BUILD=1`` to install without building it (the server then says how to build it).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class UiBuildHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or os.environ.get("WAYLINE_SKIP_UI_BUILD") == "1":
            return
        script = Path(self.root) / "ui" / "build_ui.py"
        if not script.is_file():  # building from an sdist that already carries the bundle
            return
        spec = importlib.util.spec_from_file_location("wayline_build_ui", script)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.build()
        if version != "editable":
            build_data["artifacts"].append("src/wayline/server/ui_bundle/**")
