"""``deliverator new-destination``: a complete destination package from plain templates.

The package it writes installs with ``pip install -e``, passes its own tests (which run the
conformance kit), ``ruff`` and ``mypy --strict`` as generated, so a plugin author starts from
something green and changes one hook at a time. Templates are files beside this module
(``templates/destination``), filled with :class:`string.Template` (``$name`` placeholders
never clash with Python's braces); nothing is fetched from the network.
"""

from __future__ import annotations

import keyword
import re
import string
from importlib import resources
from pathlib import Path
from typing import Final

from deliverator import __version__
from deliverator.errors import ConfigError

_NAME: Final = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")

FILES: Final = {
    "pyproject.toml": "pyproject.toml.tmpl",
    "README.md": "README.md.tmpl",
    "{package}/__init__.py": "__init__.py.tmpl",
    "{package}/plugin.py": "plugin.py.tmpl",
    "{package}/py.typed": None,
    "tests/test_conformance.py": "test_conformance.py.tmpl",
    "tests/test_plugin.py": "test_plugin.py.tmpl",
}
"""What the package holds: its path (``{package}`` is the import name) and its template
(None: an empty marker file)."""


def package_names(name: str) -> dict[str, str]:
    """The names a destination called ``name`` goes by, or :class:`ConfigError` for a name that
    cannot be an entry-point and import name (lower case, digits, ``-`` or ``_`` between words)."""
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"{name!r} is not a destination name: use lower-case letters and digits, words joined by - or _ "
            "(e.g. acme or acme-crm)"
        )
    package = "deliverator_" + name.replace("-", "_")
    if keyword.iskeyword(package):
        raise ConfigError(f"{name!r} makes the package name {package!r}, a Python keyword")
    title = " ".join(word.capitalize() for word in re.split(r"[-_]", name))
    return {
        "name": name,
        "package": package,
        "distribution": "deliverator-" + name.replace("_", "-"),
        "title": title,
        "env_var": name.replace("-", "_").upper() + "_API_KEY",
        "deliverator_version": __version__,
    }


def write_destination(name: str, parent: Path) -> Path:
    """Write the package for ``name`` into a new folder ``parent/deliverator-NAME``; returns it.

    Raises :class:`ConfigError` for a bad name or when the folder exists and is not empty
    (nothing is ever overwritten).
    """
    names = package_names(name)
    root = parent / names["distribution"]
    if root.exists() and any(root.iterdir()):
        raise ConfigError(f"{root} already exists and is not empty: choose another --dir or remove it")
    templates = resources.files("deliverator") / "templates" / "destination"
    for relative, template in FILES.items():
        path = root / relative.format(package=names["package"])
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "" if template is None else string.Template((templates / template).read_text()).substitute(names)
        path.write_text(text)
    return root
