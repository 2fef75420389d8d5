"""mkdocs hook: links from a docs page to a file of the repository outside docs/ (the
benchmarks' README, a plugin's source) are right on GitHub but outside the site. The built site
shows them as the repository path in code; a link whose target does not exist in the repository
is a warning, so ``mkdocs build --strict`` fails on it like on any broken link."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.plugins.repo_links")

_LINK = re.compile(r"\[([^\]]+)\]\(((?:\.\./)+[^)#\s]+|example-plugin/[^)#\s]*)(#[^)\s]*)?\)")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Replace links out of docs/ by the repository path they point at, checking it exists."""
    docs = Path(config["docs_dir"]).resolve()
    repo = docs.parent
    here = (docs / page.file.src_path).parent

    def replace(match: re.Match[str]) -> str:
        text, target = match.group(1), match.group(2)
        resolved = (here / target).resolve()
        if resolved.is_relative_to(docs) and not target.startswith("example-plugin/"):
            return match.group(0)
        if not resolved.exists() or not resolved.is_relative_to(repo):
            log.warning("Doc file '%s' links to '%s', which is not in the repository", page.file.src_path, target)
            return match.group(0)
        path = resolved.relative_to(repo).as_posix() + ("/" if resolved.is_dir() else "")
        return f"{text} (`{path}` in the repository)" if text.strip("`") != path.rstrip("/") else f"`{path}`"

    return _LINK.sub(replace, markdown)
