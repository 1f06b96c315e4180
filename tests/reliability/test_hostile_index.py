"""Index files damaged in ways a parser does not expect (issue #17): changed ``.npy`` header
bytes, JSON nested deeper than Python recurses, a FIFO under an index file's name, a file far
larger than it could be. Each is reported as a damaged index naming `kotae index --full`, never
a traceback or a hang, and `kotae index --full` rebuilds whatever the old version looks like."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.answer import AnswerParams, answer
from embeddings import current_version, open_index
from knowledge.errors import IndexCorruptError
from tests.embeddings.helpers import CHUNK, build
from tests.fakes import FakeEmbedder, FakeEmbedderFactory
from tests.reliability.helpers import DOCS_V2, write_tree

REBUILD = "Run `kotae index --full` to rebuild it."
NESTED = b"[" * 200_000 + b"]" * 200_000  # far deeper than Python's recursion limit
NPY_FILES = ("vectors.npy", "sentence_vectors.npy", "passages.offsets.npy", "lexical/data.csc.index.npy")
# Bytes a header mutation puts in place, each breaking numpy's header parser in its own way
# (Python's tokenizer and literal parser): an open bracket or quote, a backslash, a NUL, a
# newline, a comma, a digit, a byte that is not ASCII.
MUTANTS = b"('\\\x00\n,9\xff"


def vdir(index: Path) -> Path:
    return index / "versions" / str(current_version(index))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("template")
    build(write_tree(root / "docs", DOCS_V2), root / "index", FakeEmbedderFactory())
    return root


@pytest.fixture
def index(template, tmp_path) -> Path:
    shutil.copytree(template / "docs", tmp_path / "docs")
    shutil.copytree(template / "index", tmp_path / "index", symlinks=True)
    return tmp_path / "index"


def _open(index: Path):
    return open_index(index, expect_embedder_id="fake:v1", expect_chunking=CHUNK)


def _use(index: Path) -> None:
    """Open the index and answer from it (which reads passages, vectors and BM25 files)."""
    opened = _open(index)
    for q in ("ボツワナ", "Where is the ITU?"):
        answer(opened, FakeEmbedder(), q, AnswerParams(abstain_threshold=-10.0))


def _assert_refused(index: Path) -> str:
    with pytest.raises(IndexCorruptError) as info:
        _use(index)
    message = str(info.value)
    assert message.endswith(REBUILD), message
    return message


def _rebuilds(index: Path) -> None:
    """`kotae index --full` over the damage: a new, good version."""
    report = build(index.parent / "docs", index, FakeEmbedderFactory(), full=True)
    assert report.rebuilt_reason == "a full rebuild was requested"
    assert len(_open(index).passages) == report.passages_total > 0


def _header_length(data: bytes) -> int:
    """Magic, version, length field and the header text of a version 1 ``.npy`` file."""
    assert data[:6] == b"\x93NUMPY" and data[6] == 1
    return 10 + int.from_bytes(data[8:10], "little")


# -- .npy headers ------------------------------------------------------------------------------
@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", NPY_FILES)
def test_every_single_byte_change_of_an_npy_header_is_a_damaged_index(index, name):
    """Every byte of the header replaced by each of the mutants, one at a time (deterministic,
    where the independent run drew 40 at random): refused with the fix, or harmless."""
    path = vdir(index) / name
    good = path.read_bytes()
    escaped: dict[str, str] = {}
    refused = 0
    for at in range(6, _header_length(good)):
        for byte in MUTANTS:
            if good[at] == byte:
                continue
            path.write_bytes(good[:at] + bytes([byte]) + good[at + 1 :])
            try:
                _open(index).lexical  # noqa: B018 - may still open: some changes read as the same header
            except IndexCorruptError as exc:
                assert str(exc).endswith(REBUILD), exc
                refused += 1
            except Exception as exc:
                escaped.setdefault(type(exc).__name__, f"byte {at} -> {bytes([byte])!r}: {exc}")
    path.write_bytes(good)
    assert escaped == {}, escaped
    assert refused > 100


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ["vectors.npy", "passages.offsets.npy"])
def test_kotae_index_full_rebuilds_over_a_header_the_tokenizer_cannot_read(index, name):
    path = vdir(index) / name
    good = path.read_bytes()
    at = good.index(b"'descr'")  # an unterminated string: tokenize.TokenError in numpy's parser
    path.write_bytes(good[:at] + b"'''" + good[at + 3 :])
    _assert_refused(index)
    _rebuilds(index)


# -- JSON nested too deeply ----------------------------------------------------------------------
def _rewrite_passage_rows(v: Path, line: bytes) -> None:
    """Replace every row of passages.jsonl, keeping the manifest's checksum and the offsets in
    agreement (damage that a checksum cannot catch: a tool that rewrote both)."""
    import numpy as np

    lines = [line + b"\n"] * len((v / "passages.jsonl").read_bytes().splitlines())
    data = b"".join(lines)
    (v / "passages.jsonl").write_bytes(data)
    offsets = np.zeros(len(lines) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in lines], out=offsets[1:])
    np.save(v / "passages.offsets.npy", offsets, allow_pickle=False)
    manifest = json.loads((v / "manifest.json").read_text(encoding="utf-8"))
    manifest["checksums"]["passages.jsonl"] = f"crc32:{zlib.crc32(data) & 0xFFFFFFFF:08x}"
    (v / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


NESTINGS: dict[str, Callable[[Path], object]] = {
    "manifest.json": lambda v: (v / "manifest.json").write_bytes(NESTED),
    "manifest.json, nested inside an object": lambda v: (v / "manifest.json").write_bytes(
        b'{"format_version": 2, "documents": ' + NESTED + b"}"
    ),
    "lexical/vocab.index.json": lambda v: (v / "lexical" / "vocab.index.json").write_bytes(NESTED),
    "lexical/params.index.json": lambda v: (v / "lexical" / "params.index.json").write_bytes(NESTED),
    "a passages.jsonl row": lambda v: _rewrite_passage_rows(v, NESTED),
    "a passages.jsonl row, a huge number": lambda v: _rewrite_passage_rows(v, b'{"start": 1' + b"0" * 5000 + b"}"),
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", list(NESTINGS))
def test_json_nested_too_deeply_is_a_damaged_index(index, name):
    NESTINGS[name](vdir(index))
    _assert_refused(index)


@pytest.mark.timeout(120)
def test_kotae_index_full_rebuilds_over_a_deeply_nested_manifest(index):
    NESTINGS["manifest.json"](vdir(index))
    _rebuilds(index)


@pytest.mark.timeout(120)
def test_a_deeply_nested_glossary_is_ignored_with_the_fix_named(index, caplog):
    """english.json only adds English keywords: damaged, it is set aside with a warning that
    names the fix, and English questions are still answered (by meaning)."""
    (vdir(index) / "lexical" / "english.json").write_bytes(b'{"glosses": ' + NESTED + b"}")
    with caplog.at_level(logging.WARNING):
        reply = answer(_open(index), FakeEmbedder(), "Where is the ITU?", AnswerParams(abstain_threshold=-10.0))
    assert reply.passages
    assert any("kotae index --full" in r.getMessage() for r in caplog.records), caplog.text


# -- files that are not what they claim to be ---------------------------------------------------
def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path, 0o600)


def _opens_within(index: Path, seconds: float) -> BaseException | None:
    """Try to open the index in a thread; what it raised, or fail if it is still waiting."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            _open(index).lexical  # noqa: B018 - loads the BM25 files too
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        # Unblock the reader (a writer opens the FIFO and closes it) so the thread ends.
        for fifo in index.rglob("*"):
            if fifo.is_fifo():
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                os.close(fd)
        thread.join(5)
        pytest.fail(f"opening the index still waited after {seconds} s")
    return outcome[0]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "name",
    ["manifest.json", "passages.jsonl", "vectors.npy", "passages.offsets.npy", "lexical/vocab.index.json",
     "lexical/params.index.json", "lexical/indptr.csc.index.npy"],
)
def test_an_index_file_replaced_by_a_fifo_is_refused_at_once(index, name):
    _fifo(vdir(index) / name)
    raised = _opens_within(index, 10)
    assert isinstance(raised, IndexCorruptError), raised
    assert str(raised).endswith(REBUILD)
    _rebuilds(index)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["manifest.json", "lexical/vocab.index.json"])
def test_an_index_json_file_linked_to_an_endless_device_is_refused(index, name):
    path = vdir(index) / name
    path.unlink()
    os.symlink("/dev/zero", path)
    raised = _opens_within(index, 10)
    assert isinstance(raised, IndexCorruptError), raised
    _rebuilds(index)


@pytest.mark.timeout(60)
def test_a_manifest_larger_than_any_index_needs_is_refused_unread(index, monkeypatch):
    import embeddings.manifest as manifest

    path = vdir(index) / "manifest.json"
    monkeypatch.setattr(manifest, "MANIFEST_LIMIT", path.stat().st_size - 1)
    message = _assert_refused(index)
    assert "larger than" in message
