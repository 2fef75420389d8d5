"""Placeholder for the emulator's command-line hooks (another helper replaces this module).

Both hooks answer None so that ``plugin.py`` can import them before the real ones exist.
"""

from __future__ import annotations

from typing import Any

from deliverator import hookimpl


@hookimpl
def demo_environment() -> None:
    """No demo yet: the emulator module provides it."""
    return None


@hookimpl
def register_commands(cli: Any) -> None:
    """No extra commands yet."""
    return None
