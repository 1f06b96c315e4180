"""The development question sets and their corpora, for the tests that score them.

``eval/corpora.py`` (standard library only, runnable on its own) defines which pages of Debian's
Japanese manuals each question set is about; this loads it once for the tests.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from tests.realdocs import require

__all__ = ["EVAL", "corpora", "require_corpus"]

EVAL = Path(__file__).resolve().parents[1] / "eval"


def corpora() -> ModuleType:
    """``eval/corpora.py`` as a module."""
    name = "kotae_eval_corpora"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, EVAL / "corpora.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[name]


def require_corpus(name: str, target: Path) -> Path:
    """The pages of corpus ``name`` copied into ``target``, or skip naming the Debian package."""
    require(corpora().CORPORA[name].package)
    return corpora().copy_pages(name, target)
