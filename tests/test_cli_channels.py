"""``kotae index`` / ``ask`` with a channels file: every knowledge base, or one with ``--kb``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.embeddings.helpers import DOCS
from tests.reliability.helpers import write_tree
from tests.test_cli import assert_cited_verbatim, kotae

HR_DOCS = {
    "leave.md": "# 休暇規程\n\n年次有給休暇は入社6か月後に10日付与される。慶弔休暇は別に定める。\n",
}


def channels_file(root: Path, tail: str = "default: general\n") -> Path:
    write_tree(root / "general", DOCS)
    write_tree(root / "hr", HR_DOCS)
    path = root / "kotae-channels.yaml"
    path.write_text("knowledge_bases:\n  - name: general\n    docs: general\n"
                    "  - name: hr\n    docs: hr\n    channels: [C0HRCHAN01]\n" + tail, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["ask", "--kb", "hr", "q"], "--kb hr needs a channels file"),
        (["ask", "--kb", "payroll", "--channels-file", "{file}", "q"], "no knowledge base is named 'payroll'"),
        (["index", "--docs", "{root}/hr", "--channels-file", "{file}"], "cannot be combined with a channels file"),
        (["index", "--channels-file", "{root}/missing.yaml"], "missing.yaml: no such file"),
        (["ask", "--channels-file", "{bad}", "q"], "kotae-bad.yaml, line 2 (knowledge_bases[0].chanels): "
                                                   "unknown key 'chanels'"),
    ],
)
def test_mistakes_exit_1_with_a_message_and_load_nothing(tmp_path, capsys, args, words):
    path = channels_file(tmp_path)
    bad = tmp_path / "kotae-bad.yaml"
    bad.write_text("knowledge_bases:\n  - {name: hr, docs: hr, chanels: [C0HRCHAN01]}\n", encoding="utf-8")
    argv = [a.format(file=path, root=tmp_path, bad=bad) for a in args]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not (tmp_path / "data").exists()


def test_serve_stops_at_start_up_on_a_bad_channels_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-0000000000-test-token")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0KOTAE01-test-token")
    path = channels_file(tmp_path, tail="default: general\ndirect_messages: [general, payroll]\n")
    assert main(["serve", "--channels-file", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}, line 8 (direct_messages[1]): no knowledge base is named 'payroll'" in err


def test_ask_without_kb_and_without_a_default_names_the_choices(tmp_path, capsys):
    path = channels_file(tmp_path, tail="")
    assert main(["ask", "--channels-file", str(path), "q"]) == 1
    assert "choose one with --kb NAME (general, hr)" in capsys.readouterr().err


@pytest.mark.model
def test_index_builds_every_knowledge_base_and_ask_kb_answers_from_one(tmp_path):
    path = channels_file(tmp_path)
    env = {"KOTAE_CHANNELS_FILE": str(path), "KOTAE_DATA_DIR": str(tmp_path / "data")}
    built = kotae("index", "--quiet", env_extra=env)
    assert built.returncode == 0, built.stderr
    assert "Indexing knowledge base general:" in built.stderr and "Indexing knowledge base hr:" in built.stderr
    assert built.stderr.count("is now version") == 2
    again = kotae("index", "--quiet", "--kb", "hr", env_extra=env)
    assert again.returncode == 0 and again.stderr.count("Index is up to date") == 1, again.stderr

    question = "年次有給休暇は何日付与されますか？"
    hr = kotae("ask", "--json", "--kb", "hr", question, env_extra=env)
    assert hr.returncode == 0, hr.stderr
    result = json.loads(hr.stdout)
    assert {c["source"] for c in result["citations"]} == {"leave.md"}
    assert any("10日付与される" in q["text"] for q in result["quotes"])
    assert_cited_verbatim(result, tmp_path / "hr")

    default = kotae("ask", "--json", question, env_extra=env)  # the default knowledge base: general
    assert default.returncode == 0, default.stderr
    cited = {c["source"] for c in json.loads(default.stdout)["citations"]}
    assert cited and "leave.md" not in cited and cited <= set(DOCS)
