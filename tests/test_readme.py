"""The README is the contract: its commands and settings must match the code."""

from __future__ import annotations

import re
from pathlib import Path

from bot.cli import build_parser
from bot.settings import SETTINGS_HELP

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_and_every_documented_variable_exists():
    known = {env for _, env, _ in SETTINGS_HELP}
    assert known <= set(re.findall(r"`((?:KOTAE|SLACK)_[A-Z_]+)`", README))
    mentioned = set(re.findall(r"\b(KOTAE_[A-Z_]+)\b", README))
    assert mentioned <= known, mentioned - known


def test_every_subcommand_is_documented():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in sub.choices:
        assert f"kotae {name}" in README, name


def test_the_two_setup_commands_exist_and_ci_runs_the_test_one():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "make demo" in README and "make test" in README
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "torch==2.13.0" in makefile  # CPU build pinned before sentence-transformers
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.M)


def test_documented_flags_exist():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    all_help = "\n".join(cmd.format_help() for cmd in sub.choices.values())
    missing = {f for f in re.findall(r"`(--[a-z-]+)", README) if f not in all_help}
    assert not missing, missing
