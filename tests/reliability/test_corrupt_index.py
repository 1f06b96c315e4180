"""Damaged index files beyond tests/embeddings/test_index.py: detected when loaded, with the
command that fixes it; never served as a wrong answer — also when a bot reloads into them."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bot.answer import AnswerParams
from bot.service import AnswerService
from bot.settings import Settings
from embeddings import current_version, open_index
from knowledge.errors import IndexCorruptError, KotaeError
from tests.embeddings.helpers import CHUNK, build
from tests.fakes import FakeEmbedder, FakeEmbedderFactory
from tests.reliability.helpers import DOCS_V2, answers, write_tree


def vdir(index: Path) -> Path:
    return index / "versions" / str(current_version(index))


def _lines(v: Path) -> list[str]:
    return (v / "passages.jsonl").read_text(encoding="utf-8").splitlines()


def _put_lines(v: Path, lines: list[str]) -> None:
    (v / "passages.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _replace_line(n: int, new: str) -> Callable[[Path], None]:
    def damage(v: Path) -> None:
        lines = _lines(v)
        lines[n] = new
        _put_lines(v, lines)

    return damage


def _edit_line(n: int, change: Callable[[dict], None]) -> Callable[[Path], None]:
    def damage(v: Path) -> None:
        lines = _lines(v)
        d = json.loads(lines[n])
        change(d)
        lines[n] = json.dumps(d, ensure_ascii=False)
        _put_lines(v, lines)

    return damage


def _half_last_line(v: Path) -> None:
    data = (v / "passages.jsonl").read_bytes()
    (v / "passages.jsonl").write_bytes(data[: len(data) - 40])


def _swap_documents_lines(v: Path) -> None:
    lines = _lines(v)
    lines[0], lines[-1] = lines[-1], lines[0]
    _put_lines(v, lines)


def _edit_manifest(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def damage(v: Path) -> None:
        m = json.loads((v / "manifest.json").read_text(encoding="utf-8"))
        change(m)
        (v / "manifest.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")

    return damage


def _first_doc(m: dict) -> dict:
    return m["documents"][sorted(m["documents"])[0]]


def _pickled_vectors(v: Path) -> None:
    objects = np.empty((3,), dtype=object)
    objects[:] = [{"a": 1}, [2], "three"]
    np.save(v / "vectors.npy", objects, allow_pickle=True)


def _empty(name: str) -> Callable[[Path], None]:
    return lambda v: (v / name).write_bytes(b"")


def _garbage(name: str) -> Callable[[Path], None]:
    return lambda v: (v / name).write_bytes(os.urandom(512))


def _truncate(name: str) -> Callable[[Path], None]:
    def damage(v: Path) -> None:
        data = (v / name).read_bytes()
        (v / name).write_bytes(data[: max(1, len(data) * 2 // 3)])

    return damage


CORRUPTIONS: dict[str, Callable[[Path], object]] = {
    "passages.jsonl cut mid-line": _half_last_line,
    "garbage JSON line (a list)": _replace_line(1, "[1, 2, 3]"),
    "garbage JSON line (null)": _replace_line(1, "null"),
    "garbage line (not JSON)": _replace_line(2, "\x00\x01garbage"),
    "blank line in passages.jsonl": _replace_line(1, ""),
    "passage of an unknown document": _edit_line(0, lambda d: d.update(doc="nowhere.txt")),
    "passage text longer than its span": _edit_line(0, lambda d: d.update(text=d["text"] + "追記")),
    "passage span negative": _edit_line(0, lambda d: d.update(start=-5, end=-5 + len(d["text"]))),
    "passage sentences not a list of triples": _edit_line(0, lambda d: d.update(sentences=[[1, 2]])),
    "passages of two documents swapped": _swap_documents_lines,
    "passages.jsonl empty": _empty("passages.jsonl"),
    "passages.jsonl not UTF-8": _garbage("passages.jsonl"),
    "vectors.npy empty": _empty("vectors.npy"),
    "vectors.npy random bytes": _garbage("vectors.npy"),
    "vectors.npy holds pickled objects": _pickled_vectors,
    "sentence_vectors.npy cut": _truncate("sentence_vectors.npy"),
    "manifest.json empty": _empty("manifest.json"),
    "manifest.json a list": lambda v: (v / "manifest.json").write_text("[]", encoding="utf-8"),
    "manifest.json cut": _truncate("manifest.json"),
    "manifest document rows overlap": _edit_manifest(lambda m: _first_doc(m).update(passages=[1, 2])),
    "manifest document rows negative": _edit_manifest(lambda m: _first_doc(m).update(passages=[-1, 2])),
    "manifest sentence count off": _edit_manifest(lambda m: m["counts"].update(sentences=m["counts"]["sentences"] - 1)),
    "manifest document dropped": _edit_manifest(lambda m: m["documents"].pop(sorted(m["documents"])[0])),
    "lexical data cut": _truncate("lexical/data.csc.index.npy"),
    "lexical vocabulary not JSON": lambda v: (v / "lexical" / "vocab.index.json").write_text("{", encoding="utf-8"),
    "lexical folder gone": lambda v: [p.unlink() for p in (v / "lexical").iterdir()] and (v / "lexical").rmdir(),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("template")
    build(write_tree(root / "docs", DOCS_V2), root / "index", FakeEmbedderFactory())
    return root


@pytest.fixture
def index(template, tmp_path) -> Path:
    """A fresh copy of a good index of DOCS_V2 (and its documents) for each test."""
    shutil.copytree(template / "docs", tmp_path / "docs")
    shutil.copytree(template / "index", tmp_path / "index", symlinks=True)
    return tmp_path / "index"


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_damage_is_detected_at_load_naming_the_fix(index, name):
    CORRUPTIONS[name](vdir(index))
    with pytest.raises(IndexCorruptError) as info:
        open_index(index, expect_embedder_id="fake:v1", expect_chunking=CHUNK)
    message = str(info.value)
    assert message.endswith("Run `kotae index --full` to rebuild it."), message
    assert str(index) in message


def test_current_pointing_outside_the_index_is_not_followed(index, tmp_path):
    """A `current` link aimed elsewhere (absolute, ../) only ever names a version inside."""
    elsewhere = tmp_path / "elsewhere" / "versions" / "evil"
    elsewhere.mkdir(parents=True)
    for target in (str(elsewhere), f"../elsewhere/versions/{elsewhere.name}"):
        (index / "current").unlink()
        os.symlink(target, index / "current")
        with pytest.raises(IndexCorruptError, match="versions/evil, which is missing"):
            open_index(index)


def test_a_damaged_index_is_rebuilt_by_kotae_index_full(index, tmp_path):
    CORRUPTIONS["passages of two documents swapped"](vdir(index))
    report = build(tmp_path / "docs", index, FakeEmbedderFactory(), full=True)
    assert report.rebuilt_reason == "a full rebuild was requested"
    assert len(open_index(index).passages) == report.passages_total


def _service(tmp_path: Path) -> AnswerService:
    settings = Settings.load({"docs_dir": str(tmp_path / "docs"), "index_dir": str(tmp_path / "index")},
                             env={"KOTAE_DATA_DIR": str(tmp_path / "data")})
    return AnswerService(settings, embedder=FakeEmbedder(), params=AnswerParams(abstain_threshold=-10.0))


def test_a_service_on_a_damaged_index_refuses_rather_than_answers(index, tmp_path):
    CORRUPTIONS["passage text longer than its span"](vdir(index))
    service = _service(tmp_path)
    with pytest.raises(IndexCorruptError, match="kotae index --full"):
        service.answer("ボツワナ")


def _land_damaged_version(index: Path, tmp_path: Path) -> str:
    """A refresh lands a new version, which is then damaged on disk (a bad disk, a bad copy)."""
    write_tree(tmp_path / "docs", {**DOCS_V2, "extra.txt": "追加資料\n\n新しい通信規格の標準化を進める。\n"})
    version = build(tmp_path / "docs", index, FakeEmbedderFactory()).version
    CORRUPTIONS["passages.jsonl cut mid-line"](vdir(index))
    return str(version)


def test_reloading_into_a_damaged_version_raises_and_keeps_the_loaded_index(index, tmp_path):
    service = _service(tmp_path)
    good = service.answer("ボツワナ")
    old_version = service.index_version
    _land_damaged_version(index, tmp_path)
    with pytest.raises(KotaeError, match="kotae index --full"):
        service.reload_if_changed()
    assert service.index_version == old_version  # the loaded index was not replaced
    assert service.answer("ボツワナ") == good


def test_a_bot_keeps_answering_from_the_good_index_when_a_damaged_one_lands(index, tmp_path):
    import logging

    from bot.slack.dedup import SeenKeys
    from bot.slack.feedback import FeedbackLog
    from bot.slack.handlers import Asking, Policy

    service = _service(tmp_path)
    asking = Asking(service, Policy(), FeedbackLog(tmp_path / "feedback.jsonl"), SeenKeys(),
                    logging.getLogger("kotae.slack"))
    good = asking.answer("ボツワナ", "mention", "C1")
    _land_damaged_version(index, tmp_path)
    assert asking.answer("ボツワナ", "mention", "C1") == good


def test_the_answers_of_an_intact_index_are_stable(index):
    assert answers(index) == answers(index)
