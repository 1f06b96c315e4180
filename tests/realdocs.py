"""Real Japanese documents nobody here wrote: Debian's manuals, installed by package name.

``make test`` installs them (``scripts/system-deps.sh``); they are read where Debian puts them
and never copied into the repository. A test that needs one calls :func:`require`, which skips
with a reason naming the package when it is not installed.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["MANUALS", "Manual", "installed", "require", "require_program"]


@dataclass(frozen=True)
class Manual:
    package: str
    html_dir: Path  # the manual's HTML pages (other files in it: stylesheets, images)
    html_glob: str  # the Japanese pages inside html_dir
    pdf: Path | None  # the typeset Japanese PDF, where the package ships one

    def html_pages(self) -> list[Path]:
        return sorted(self.html_dir.glob(self.html_glob))


MANUALS = {
    "maint-guide-ja": Manual(
        "maint-guide-ja",
        Path("/usr/share/doc/maint-guide-ja/html"),
        "*.ja.html",
        Path("/usr/share/doc/maint-guide-ja/maint-guide.ja.pdf"),
    ),
    "debian-reference-ja": Manual(
        "debian-reference-ja",
        Path("/usr/share/debian-reference"),
        "*.ja.html",
        Path("/usr/share/debian-reference/debian-reference.ja.pdf"),
    ),
    "debian-edu-doc-ja": Manual(
        "debian-edu-doc-ja",
        Path("/usr/share/doc/debian-edu-doc-ja"),
        "debian-edu-bookworm-manual.html",
        Path("/usr/share/doc/debian-edu-doc-ja/debian-edu-bookworm-manual.pdf"),
    ),
}


def installed(package: str) -> Manual | None:
    """The manual of ``package`` when its files are on this machine, else ``None``."""
    manual = MANUALS[package]
    return manual if manual.html_pages() else None


def require(package: str) -> Manual:
    """The manual of ``package``, or skip the calling test saying how to install it."""
    manual = installed(package)
    if manual is None:
        pytest.skip(
            f"Debian package {package} is not installed (run `make test` as root, or apt-get install {package})"
        )
    return manual


def require_program(name: str, package: str) -> str:
    """The path of program ``name``, or skip saying which Debian package brings it."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian package {package}; `make test` installs it as root)")
    return path
