"""Incremental refresh: only what changed is embedded; what was removed is never found again."""

from __future__ import annotations

import json

import numpy as np
import pytest

from embeddings import current_version, open_index
from knowledge.errors import DocumentError
from knowledge.passage import ChunkSettings
from tests.embeddings.helpers import DOCS, build, write_docs
from tests.fakes import FakeEmbedderFactory

NEW_SENTENCE = "2014年にはモルディブも日本方式の採用を決めた。"


def every_row(index) -> list[int]:
    return [row for row, _ in index.search_dense(np.ones(index.dim, dtype=np.float32), 10_000)]


def versions(index_dir) -> list[str]:
    return sorted(p.name for p in (index_dir / "versions").iterdir())


def test_first_build_embeds_every_passage_and_sentence(built, factory, index_dir):
    assert built.added == sorted(DOCS) and built.changed == built.removed == built.unchanged == []
    assert built.rebuilt_reason == "there was no index yet"
    assert built.passages_embedded == built.passages_total > len(DOCS)
    assert built.sentences_embedded == built.sentences_total > built.passages_total
    assert len(factory.texts) == built.passages_embedded + built.sentences_embedded
    assert built.version == current_version(index_dir) and not built.nothing_changed
    assert built.seconds > 0


def test_no_change_loads_no_model_and_writes_nothing(built, docs_dir, index_dir, factory):
    before = versions(index_dir)
    report = build(docs_dir, index_dir, factory)
    assert report.nothing_changed
    assert report.version == built.version == current_version(index_dir)
    assert report.unchanged == sorted(DOCS)
    assert report.added == report.changed == report.removed == report.failed == []
    assert report.passages_embedded == report.sentences_embedded == 0
    assert report.passages_total == built.passages_total
    assert factory.loads == 1  # only the first build loaded the model
    assert versions(index_dir) == before


def test_touching_a_file_without_changing_it_is_no_change(built, docs_dir, index_dir, factory):
    path = docs_dir / "itu.txt"
    path.write_bytes(path.read_bytes())
    assert build(docs_dir, index_dir, factory).nothing_changed


def test_editing_one_document_embeds_only_its_passages(built, docs_dir, index_dir, factory):
    old = open_index(index_dir)
    with open(docs_dir / "isdb.txt", "a", encoding="utf-8") as f:
        f.write(NEW_SENTENCE + "\n")
    report = build(docs_dir, index_dir, factory)
    assert report.changed == ["isdb.txt"]
    assert report.unchanged == ["itu.txt", "weather.txt"]
    assert report.rebuilt_reason is None and report.version != built.version
    new = open_index(index_dir)
    assert report.passages_embedded == new.documents["isdb.txt"].passages[1]
    assert report.sentences_embedded == new.documents["isdb.txt"].sentences[1]
    second_run = factory.made[1].texts
    assert len(second_run) == report.passages_embedded + report.sentences_embedded
    isdb = (docs_dir / "isdb.txt").read_text(encoding="utf-8")
    last_lines = [t.split("\n")[-1] for t in second_run]  # passage text, or "heading：sentence"
    assert all(line in isdb or line.partition("：")[2] in isdb for line in last_lines)
    # unchanged documents keep their vectors bit for bit
    for rel in ("itu.txt", "weather.txt"):
        assert np.array_equal(new.vector_store.vectors_of(rel), old.vector_store.vectors_of(rel))
        assert np.array_equal(new.sentence_store.vectors_of(rel), old.sentence_store.vectors_of(rel))
    # the new text is found, by meaning and by words
    q = factory.made[0].embed_query("モルディブも日本方式を採用")
    assert "モルディブ" in new.passages[new.search_dense(q, 1)[0][0]].text
    assert "モルディブ" in new.passages[new.search_lexical("モルディブ", 1)[0][0]].text


def test_adding_a_document(built, docs_dir, index_dir, factory):
    write_docs(docs_dir, {"sub/asean.txt": "ASEAN\n\nASEAN諸国へのICTプロジェクトの展開を支援している。\n"})
    report = build(docs_dir, index_dir, factory)
    assert report.added == ["sub/asean.txt"] and report.changed == report.removed == []
    index = open_index(index_dir)
    row = index.search_lexical("ASEANのICTプロジェクト", 1)[0][0]
    assert index.passages[row].doc_path == "sub/asean.txt"
    assert report.passages_embedded == index.documents["sub/asean.txt"].passages[1]


def test_deleting_a_document_removes_it_for_good_without_loading_the_model(built, docs_dir, index_dir, factory):
    (docs_dir / "weather.txt").unlink()
    report = build(docs_dir, index_dir, factory)
    assert report.removed == ["weather.txt"] and report.passages_embedded == 0
    assert factory.loads == 1
    index = open_index(index_dir)
    assert "weather.txt" not in index.documents
    rows = every_row(index)
    assert len(rows) == len(index.passages)
    assert all(index.passages[r].doc_path != "weather.txt" for r in rows)
    assert index.search_lexical("天気 晴れ 洗濯物", 100) == []
    q = factory.made[0].embed_query("今日は晴れで風が強い")
    assert all(index.passages[r].doc_path != "weather.txt" for r, _ in index.search_dense(q, 100))


def test_changed_title_in_metadata_re_embeds_that_document(built, docs_dir, index_dir, factory):
    (docs_dir / "kotae-metadata.yaml").write_text(
        "itu.txt:\n  title: ITUの概要\n  url: https://example.org/itu\n", encoding="utf-8"
    )
    report = build(docs_dir, index_dir, factory)
    assert report.changed == ["itu.txt"]
    info = open_index(index_dir).documents["itu.txt"]
    assert (info.title, info.url) == ("ITUの概要", "https://example.org/itu")
    titled = [t for t in factory.made[1].texts if t.startswith("ITUの概要\n")]
    assert len(titled) == report.passages_embedded > 0
    assert build(docs_dir, index_dir, factory).nothing_changed


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"chunking": ChunkSettings(80, 20)}, "passages of 60 characters (overlap 15)"),
        ({"model": "fake:v2"}, "built with model fake:v1 but Kotae is configured for fake:v2"),
        ({"full": True}, "a full rebuild was requested"),
    ],
)
def test_model_chunking_or_full_rebuilds_everything(built, docs_dir, index_dir, factory, change, reason):
    report = build(docs_dir, index_dir, factory, **change)
    assert reason in report.rebuilt_reason
    assert report.passages_embedded == report.passages_total
    assert report.sentences_embedded == report.sentences_total
    assert report.unchanged == sorted(DOCS)  # nothing changed in the documents themselves
    index = open_index(index_dir, expect_embedder_id=change.get("model", "fake:v1"))
    assert index.manifest.chunking == change.get("chunking", ChunkSettings(60, 15))
    same_settings = {k: v for k, v in change.items() if k != "full"}
    assert build(docs_dir, index_dir, factory, **same_settings).nothing_changed


def test_a_document_changed_into_an_unusable_one_is_dropped(docs_dir, index_dir, factory):
    """Its bytes changed, so its old passages quote text the file no longer holds (issue #17);
    a document that cannot be opened at all keeps its rows (tests/reliability)."""
    write_docs(docs_dir, {"page.html": "<html><body><h1>会議</h1><p>ドバイで会議があった。</p></body></html>"})
    build(docs_dir, index_dir, factory)
    (docs_dir / "page.html").write_text("<html><body></body></html>", encoding="utf-8")
    with open(docs_dir / "itu.txt", "a", encoding="utf-8") as f:
        f.write("ITUの会合は毎年開かれる。\n")
    problems: list[DocumentError] = []
    report = build(docs_dir, index_dir, factory, on_problem=problems.append)
    assert [rel for rel, _ in report.failed] == ["page.html"]
    assert "no visible text" in report.failed[0][1]
    assert [p.path for p in problems] == ["page.html"]
    assert report.changed == ["itu.txt"]
    assert report.removed == ["page.html"]  # the report says what was dropped
    index = open_index(index_dir)
    assert "page.html" not in index.documents
    assert all(p.doc_path != "page.html" for p in index.passages)
    report = build(docs_dir, index_dir, factory, full=True)
    assert [rel for rel, _ in report.failed] == ["page.html"]
    assert "page.html" not in open_index(index_dir).documents


def test_new_unreadable_document_is_reported_and_skipped(built, docs_dir, index_dir, factory):
    write_docs(docs_dir, {"empty.html": "<html></html>"})
    report = build(docs_dir, index_dir, factory)
    assert [rel for rel, _ in report.failed] == ["empty.html"] and report.added == []
    assert "empty.html" not in open_index(index_dir).documents


def test_overlapping_passages_share_sentence_rows(docs_dir, index_dir, factory):
    short = "".join(f"{n}番目の短い文。" for n in range(1, 13))
    write_docs(docs_dir, {"short.txt": "短い文\n\n" + short + "\n"})
    report = build(docs_dir, index_dir, factory, chunking=ChunkSettings(40, 20))
    index = open_index(index_dir)
    first, count = index.documents["short.txt"].passages
    spans = [s for i in range(first, first + count) for s in index.passage_sentences(i)]
    assert len({row for *_, row in spans}) < len(spans)  # some sentence sits in two passages
    assert len({(s, e) for s, e, _ in spans}) == len({row for *_, row in spans})
    assert report.sentences_embedded == report.sentences_total


def test_only_the_current_and_previous_versions_are_kept(built, docs_dir, index_dir, factory):
    seen = [built.version]
    for n in range(3):
        write_docs(docs_dir, {f"extra{n}.txt": f"追加文書{n}\n\n追加の文書{n}です。\n"})
        seen.append(build(docs_dir, index_dir, factory).version)
    assert versions(index_dir) == sorted(seen[-2:])


def test_an_open_index_keeps_serving_while_refreshes_replace_it(built, docs_dir, index_dir, factory):
    old = open_index(index_dir)
    expected = old.search_lexical("ボツワナ", 3)
    for n in range(3):
        write_docs(docs_dir, {f"extra{n}.txt": f"追加{n}\n\n追加の文書{n}です。\n"})
        build(docs_dir, index_dir, factory)
    assert current_version(index_dir) != old.version
    assert not old.version_dir.exists()
    assert old.search_lexical("ボツワナ", 3) == expected
    assert old.search_dense(old.vectors[0], 1)[0][0] == 0


def test_empty_documents_folder_gives_an_empty_index(tmp_path, factory):
    (tmp_path / "docs").mkdir()
    report = build(tmp_path / "docs", tmp_path / "index", factory)
    assert report.passages_total == 0 and report.version
    index = open_index(tmp_path / "index")
    assert len(index.passages) == 0 and index.dim == 256
    assert index.search_dense(np.ones(256), 5) == [] and index.search_lexical("何か", 5) == []


def test_plain_callable_factory_works(docs_dir, index_dir):
    made = FakeEmbedderFactory()
    report = build(docs_dir, index_dir, lambda model: made(model))
    assert report.passages_total > 0
    assert open_index(index_dir).embedder_id == "fake:v1"


def _edit_manifest(index_dir, **changes) -> None:
    path = index_dir / "current" / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(changes)
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def test_new_tokenizer_rebuilds_words_but_embeds_nothing(built, docs_dir, index_dir, factory):
    _edit_manifest(index_dir, tokenizer="older-tokenizer/v0")
    report = build(docs_dir, index_dir, factory)
    assert not report.nothing_changed and report.rebuilt_reason is None
    assert report.passages_embedded == report.sentences_embedded == 0
    assert factory.loads == 1
    index = open_index(index_dir)
    assert index.manifest.tokenizer != "older-tokenizer/v0"
    assert index.search_lexical("ボツワナ", 1)


def test_new_embedding_recipe_rebuilds_everything(built, docs_dir, index_dir, factory):
    _edit_manifest(index_dir, embedding_text="text-only/v0")
    report = build(docs_dir, index_dir, factory)
    assert "text-only/v0" in report.rebuilt_reason
    assert report.passages_embedded == report.passages_total


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda v: (v / "vectors.npy").write_bytes(b"garbage"), "could not be used: The index at"),
        (lambda v: _edit_manifest(v.parent, format_version=0), "another format"),
    ],
)
def test_damaged_or_foreign_previous_index_is_rebuilt(built, docs_dir, index_dir, factory, damage, reason):
    damage(index_dir / "current")
    report = build(docs_dir, index_dir, factory)
    assert reason in report.rebuilt_reason
    assert "kotae index --full" not in report.rebuilt_reason
    assert report.passages_embedded == report.passages_total
    assert open_index(index_dir).version == report.version


def test_malformed_metadata_file_stops_before_writing(built, docs_dir, index_dir, factory):
    (docs_dir / "kotae-metadata.yaml").write_text("itu.txt: [unclosed\n", encoding="utf-8")
    with pytest.raises(DocumentError, match=r"kotae-metadata\.yaml"):
        build(docs_dir, index_dir, factory)
    assert current_version(index_dir) == built.version
    assert versions(index_dir) == [built.version]


def test_a_corpus_without_a_single_word_is_indexed(tmp_path):
    from embeddings import open_index
    from tests.embeddings.helpers import build, write_docs
    from tests.fakes import FakeEmbedderFactory

    docs = write_docs(tmp_path / "docs", {"dots.txt": "。。。\n\n――\n"})
    build(docs, tmp_path / "index", FakeEmbedderFactory())
    index = open_index(tmp_path / "index")
    assert len(index.passages) >= 1
    assert index.search_lexical("ボツワナ", 5) == [] and index.document_frequency("ボツワナ") == 0
