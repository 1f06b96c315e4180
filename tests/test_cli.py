"""The ``kotae`` command through its real entry point, with the real bundled model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model

KOTAE = [sys.executable, "-m", "bot"]


def kotae(*args: str, env_extra: dict[str, str] | None = None, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "KOTAE_"))}
    env.update(env_extra or {})
    return subprocess.run([*KOTAE, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False)


def file_lines(docs: Path, source: str) -> list[str]:
    return (docs / source).read_text(encoding="utf-8").splitlines(keepends=True)


def assert_at_lines(text: str, lines: list[str], start_line: int, end_line: int) -> None:
    """``text`` occurs in ``lines[start_line..end_line]`` and begins and ends on those lines."""
    assert text in "".join(lines[start_line - 1 : end_line])
    parts = text.split("\n")
    assert parts[0] in lines[start_line - 1]
    assert parts[-1] in lines[end_line - 1]


def assert_cited_verbatim(result: dict, docs: Path) -> None:
    """Every passage and quote occurs verbatim in its file at the lines it names."""
    for p in result["passages"]:
        assert_at_lines(p["text"], file_lines(docs, p["source"]), p["start_line"], p["end_line"])
    cites = {c["n"]: c for c in result["citations"]}
    for q in result["quotes"]:
        c = cites[q["citation"]]
        assert_at_lines(q["text"], file_lines(docs, c["source"]), c["start_line"], c["end_line"])
        assert any(q["text"] in p["text"] for p in result["passages"] if p["source"] == c["source"])


@pytest.fixture
def index_copy(sample_index_dir, tmp_path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(sample_index_dir, target, symlinks=True)
    return target


def test_ask_answers_in_japanese_with_verbatim_citations(sample_index_dir, sample_settings):
    out = kotae("ask", "--json", "--index", str(sample_index_dir), "日本方式の地デジを採用した国は全部で何か国？")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["answered"] is True
    assert result["language"] == "ja"
    assert any("14か国" in q["text"] for q in result["quotes"])
    assert result["citations"][0]["title"].startswith("情報通信白書")
    assert_cited_verbatim(result, sample_settings.docs_dir)


def test_ask_english_question_gets_english_lead_and_japanese_quotes(sample_index_dir, sample_settings):
    out = kotae(
        "ask",
        "--json",
        "--index",
        str(sample_index_dir),
        "Which African country first adopted the Japanese digital TV standard?",
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["language"] == "en"
    assert result["lead"].isascii() or "“" in result["lead"]
    assert any("ボツワナ" in p["text"] for p in result["passages"][:3])
    assert_cited_verbatim(result, sample_settings.docs_dir)


def test_ask_prints_readable_text(sample_index_dir):
    out = kotae("ask", "--index", str(sample_index_dir), "ISDB-Tを採用した国は合計いくつ？")
    assert out.returncode == 0, out.stderr
    assert "14か国" in out.stdout
    assert "出典:" in out.stdout and "[1]" in out.stdout


def test_edit_refresh_and_delete_through_the_cli(corpus_copy, index_copy):
    docs, index = corpus_copy, index_copy
    common = ("--docs", str(docs), "--index", str(index))

    nothing = kotae("index", *common, "-q")
    assert nothing.returncode == 0, nothing.stderr
    assert "nothing to do" in nothing.stderr

    press = docs / "press-2014-09-19-japan-us-internet-economy-dialogue.txt"
    press.write_text(
        press.read_text(encoding="utf-8")
        + "\n次回の第7回局長級会合は、2031年に札幌市の時計台ホールで開催されることが決まりました。\n",
        encoding="utf-8",
    )
    manifest = json.loads((index / "current" / "manifest.json").read_text(encoding="utf-8"))
    edited = kotae("index", *common, "-q")
    assert edited.returncode == 0, edited.stderr
    assert "0 added, 1 changed, 0 removed, 4 unchanged" in edited.stderr
    new_manifest = json.loads((index / "current" / "manifest.json").read_text(encoding="utf-8"))
    embedded = int(edited.stderr.split("Passages embedded: ")[1].split()[0])
    press_passages = new_manifest["documents"][press.name]["passages"][1]
    assert embedded == press_passages  # only the edited document was embedded
    assert embedded < new_manifest["counts"]["passages"] / 3
    assert manifest["documents"].keys() == new_manifest["documents"].keys()

    asked = kotae("ask", "--json", *common, "第7回の局長級会合はどこで開かれる？")
    result = json.loads(asked.stdout)
    assert any("札幌市" in q["text"] for q in result["quotes"]), result
    assert_cited_verbatim(result, docs)

    (docs / "wcit12-internet-governance-slides-2013.txt").unlink()
    removed = kotae("index", *common, "-q")
    assert "0 added, 0 changed, 1 removed, 4 unchanged" in removed.stderr
    after = json.loads(kotae("ask", "--json", *common, "WCIT-12はどこで開催された？").stdout)
    sources = {p["source"] for p in after["passages"]} | {c["source"] for c in after["citations"]}
    assert "wcit12-internet-governance-slides-2013.txt" not in sources


def test_index_built_with_another_model_is_refused_with_the_fix(index_copy):
    manifest_path = index_copy / "current" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["embedder"]["id"] = "sentence-transformers:some/other-model"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    out = kotae("ask", "--index", str(index_copy), "ITUとは？")
    assert out.returncode == 1
    assert "kotae index --full" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_documents_folder_is_a_clear_error(tmp_path):
    out = kotae("index", str(tmp_path / "nope"), "--index", str(tmp_path / "idx"))
    assert out.returncode == 1
    assert "does not exist" in out.stderr and "Traceback" not in out.stderr


def test_eval_writes_one_json_object_per_question(sample_index_dir, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"id": "a", "question": "ISDB-Tを最初に採用した国は？"}\n{"id": "b", "question": "What is the ITU?"}\n',
        encoding="utf-8",
    )
    out_path = tmp_path / "out.jsonl"
    out = kotae("eval", str(questions), "--out", str(out_path), "--index", str(sample_index_dir))
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out_path.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert all({"answered", "quotes", "citations", "passages"} <= r.keys() for r in rows)
