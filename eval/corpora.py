#!/usr/bin/env python3
"""The development corpora beyond the bundled one: pages of Debian's Japanese manuals.

The manuals are installed by ``make test`` (``scripts/system-deps.sh``: Debian packages
``maint-guide-ja`` and ``debian-reference-ja``) and never copied into the repository. Each
question set (``eval/<name>.jsonl``) is about a documented subset of the manual's pages, chosen
so that indexing it with the bundled model takes a minute or two, not hours (the whole Debian
Reference is ~25k texts to embed). This script copies a subset into a folder to index:

    python eval/corpora.py maint-guide /tmp/maint-guide
    kotae eval --docs /tmp/maint-guide --index /tmp/maint-guide-index eval/maint-guide.jsonl

Standard library only.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Corpus:
    package: str  # the Debian package that installs the pages
    html_dir: Path
    pages: tuple[str, ...]  # the subset the questions are about
    about: str


CORPORA = {
    "maint-guide": Corpus(
        "maint-guide-ja",
        Path("/usr/share/doc/maint-guide-ja/html"),
        ("start.ja.html", "first.ja.html", "dreq.ja.html"),
        "Debian New Maintainers' Guide, chapters 1, 2 and 4 (getting started, first steps, required files)",
    ),
    "debian-reference": Corpus(
        "debian-reference-ja",
        Path("/usr/share/debian-reference"),
        ("ch03.ja.html", "ch04.ja.html", "ch08.ja.html"),
        "Debian Reference, chapters 3, 4 and 8 (system initialization, authentication, I18N and L10N)",
    ),
}


def missing(name: str) -> list[Path]:
    """The pages of corpus ``name`` that are not installed."""
    corpus = CORPORA[name]
    return [corpus.html_dir / page for page in corpus.pages if not (corpus.html_dir / page).is_file()]


def copy_pages(name: str, target: Path) -> Path:
    """Copy the pages of corpus ``name`` into ``target`` (created); returns ``target``."""
    corpus = CORPORA[name]
    target.mkdir(parents=True, exist_ok=True)
    for page in corpus.pages:
        shutil.copyfile(corpus.html_dir / page, target / page)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", choices=sorted(CORPORA))
    parser.add_argument("target", type=Path, help="folder to copy the pages into (outside the repository)")
    args = parser.parse_args()
    absent = missing(args.corpus)
    if absent:
        package = CORPORA[args.corpus].package
        print(f"{absent[0]} is not installed: apt-get install {package} (or run `make test` as root)", file=sys.stderr)
        return 1
    copy_pages(args.corpus, args.target)
    print(f"{args.target}: {CORPORA[args.corpus].about}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
