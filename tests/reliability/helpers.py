"""Shared by the reliability tests: a document folder that changes, the killable indexer, and
snapshots of "what a server would answer" to compare indexes with."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.answer import AnswerParams, answer
from bot.service import AnswerService
from bot.settings import Settings
from embeddings import open_index
from tests.embeddings.helpers import CHUNK, DOCS, build
from tests.fakes import FakeEmbedder, FakeEmbedderFactory

ROOT = Path(__file__).resolve().parents[2]
INDEXER = Path(__file__).with_name("indexer.py")
CHUNK_FLAGS = ["--chunk-chars", str(CHUNK.max_chars), "--chunk-overlap", str(CHUNK.overlap_chars)]

LONG = "電波の国際協調\n\n" + "".join(f"第{n}回の会合では周波数の国際協調について議論した。" for n in range(30)) + "\n"

#: The documents after the change a killed refresh was bringing in: one edited, one added (long
#: enough for several embedding batches), one new in a subfolder, one removed.
DOCS_V2 = {
    "isdb.txt": DOCS["isdb.txt"],
    "itu.txt": DOCS["itu.txt"].replace("ドバイ", "アラブ首長国連邦のドバイ") + "ITUの事務総局長は選挙で選ばれる。\n",
    "long.txt": LONG,
    "sub/dialogue.md": (
        "# 日米対話\n\n日米はインターネットエコノミーに関する政策対話を行った。海底ケーブルの保護で協力する。\n"
    ),
}

QUESTIONS = ["ボツワナが日本方式を採用した", "WCIT-12はどこで開かれた？", "周波数の国際協調", "海底ケーブル", "天気"]
PARAMS = AnswerParams(abstain_threshold=-10.0)


def write_tree(folder: Path, docs: dict[str, str]) -> Path:
    """Make ``folder`` hold exactly ``docs``."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(folder.rglob("*"), reverse=True):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in docs:
            path.unlink()
    for rel, text in docs.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    return folder


def answers(index_dir: Path) -> tuple[Any, ...]:
    """What a server would answer from the current index: replies and raw search results."""
    index = open_index(index_dir, expect_embedder_id="fake:v1", expect_chunking=CHUNK)
    embedder = FakeEmbedder()
    out: list[Any] = [index.version]
    for q in QUESTIONS:
        out.append(answer(index, embedder, q, PARAMS))
        out.append(index.search_lexical(q, 5))
        out.append(index.search_dense(embedder.embed_query(q), 5))
    return tuple(out)


def content(index_dir: Path) -> dict[str, Any]:
    """Everything an index holds, without its version name: two correct indexes of the same
    documents compare equal."""
    index = open_index(index_dir, expect_embedder_id="fake:v1", expect_chunking=CHUNK)
    embedder = FakeEmbedder()
    replies = []
    for q in QUESTIONS:
        r = answer(index, embedder, q, PARAMS)
        replies.append((r.answered, r.quotes, r.citations, [(p.source, p.text) for p in r.passages]))
    return {
        "documents": {rel: (d.sha256, d.title, d.passages, d.sentences) for rel, d in index.documents.items()},
        "passages": list(index.passages),
        "sentences": [index.passage_sentences(i) for i in range(len(index.passages))],
        "vectors": np.round(np.asarray(index.vectors), 5).tolist(),
        "sentence_vectors": np.round(np.asarray(index.sentence_vectors), 5).tolist(),
        "lexical": [index.search_lexical(q, 10) for q in QUESTIONS],
        "replies": replies,
    }


def leftovers(index_dir: Path) -> list[str]:
    names = [n for n in os.listdir(index_dir / "versions") if n.endswith(".tmp")]
    return names + [n for n in os.listdir(index_dir) if n.startswith("current.tmp")]


def indexer_command(docs: Path, index: Path, *, stop_at: int = 0, release: Path | None = None,
                    batch_delay: float = 0.0, dim: int | None = None, extra: tuple[str, ...] = (),
                    quiet: bool = True) -> list[str]:
    cmd = [sys.executable, str(INDEXER)]
    if stop_at:
        cmd += ["--stop-at", str(stop_at)]
    if release is not None:
        cmd += ["--release", str(release)]
    if batch_delay:
        cmd += ["--batch-delay", str(batch_delay)]
    if dim is not None:
        cmd += ["--dim", str(dim)]
    flags = ["-q"] if quiet else []
    return [*cmd, "--", "index", str(docs), "--index", str(index), *flags, *CHUNK_FLAGS, *extra]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "KOTAE_"))}
    env["PYTHONPATH"] = str(ROOT)
    return env


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def markers(self) -> list[str]:
        return [line.split(" ", 2)[2] for line in self.stdout.splitlines()
                if line.startswith("@@ ") and line.split(" ")[1].isdigit()]

    @property
    def maxrss_kib(self) -> int:
        return next(int(line.split()[2]) for line in self.stdout.splitlines() if line.startswith("@@ maxrss"))


def run_indexer(docs: Path, index: Path, timeout: float = 120, **options: Any) -> Run:
    done = subprocess.run(indexer_command(docs, index, **options), capture_output=True, text=True,
                          env=child_env(), cwd=ROOT, timeout=timeout)
    return Run(done.returncode, done.stdout, done.stderr)


class Stopped:
    """An indexer process that stopped at a marker and waits to be killed (or released)."""

    def __init__(self, docs: Path, index: Path, stop_at: int, release: Path | None = None, **options: Any):
        self.proc = subprocess.Popen(indexer_command(docs, index, stop_at=stop_at, release=release, **options),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=child_env(), cwd=ROOT)
        self.lines: list[str] = []
        self._checked = 0
        self._partial = ""

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        """Read stdout until a line contains ``text``; raises if the process ends first.

        Reads the pipe with ``os.read`` (a buffered ``readline`` could hold lines that
        ``select`` no longer sees)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[self._checked:]:
                self._checked += 1
                if text in line:
                    return line
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                self._partial += chunk.decode()
                *complete, self._partial = self._partial.split("\n")
                self.lines += complete
        raise AssertionError(f"indexer never printed {text!r}; printed {self.lines[-5:]}; "
                             f"stderr {self.stderr_tail()}")

    def stderr_tail(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return "(running)"
        return self.proc.stderr.read()[-2000:]

    def kill(self) -> int:
        os.kill(self.proc.pid, signal.SIGKILL)
        code = self.proc.wait(10)
        self.close()
        return code

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        out, err = self.proc.communicate(timeout=timeout)
        self.lines += (self._partial + out).splitlines()
        return self.proc.returncode, err

    def close(self) -> None:
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


class Zygote:
    """One ``indexer.py --zygote`` process that forks killable indexer runs cheaply."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.proc = subprocess.Popen([sys.executable, str(INDEXER), "--zygote"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=child_env(), cwd=ROOT)
        self._lock = threading.Lock()
        self._n = 0
        assert self.proc.stdout is not None
        assert json.loads(self.proc.stdout.readline()) == {"ready": True}

    def start(self, docs: Path, index: Path, **options: Any) -> Forked:
        args = indexer_command(docs, index, **options)[2:]
        with self._lock:
            self._n += 1
            out, err = self.workdir / f"run{self._n}.out", self.workdir / f"run{self._n}.err"
            assert self.proc.stdin is not None and self.proc.stdout is not None
            self.proc.stdin.write(json.dumps({"args": args, "stdout": str(out), "stderr": str(err)}) + "\n")
            self.proc.stdin.flush()
            pid = json.loads(self.proc.stdout.readline())["pid"]
        return Forked(pid, out, err)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class Forked:
    """A run forked by the :class:`Zygote`; its output goes to files."""

    def __init__(self, pid: int, out: Path, err: Path) -> None:
        self.pid, self.out, self.err = pid, out, err

    @property
    def lines(self) -> list[str]:
        return self.out.read_text(encoding="utf-8").splitlines() if self.out.exists() else []

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if text in line:
                    return line
            if any(line.startswith("@@ exit") for line in self.lines):
                break
            time.sleep(0.005)
        raise AssertionError(f"indexer never printed {text!r}; printed {self.lines[-5:]}")

    def kill(self) -> bool:
        """SIGKILL the run; False if it had already finished."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            return False
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the zygote's kernel reaps it: wait until it is gone
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return True
            time.sleep(0.005)
        raise AssertionError(f"process {self.pid} survived SIGKILL")


def fake_service(root: Path, docs: dict[str, str] | None = None) -> AnswerService:
    """A real AnswerService over a real index of ``docs`` built with the fake model."""
    write_tree(root / "docs", docs or DOCS_V2)
    build(root / "docs", root / "index", FakeEmbedderFactory())
    settings = Settings.load({"docs_dir": str(root / "docs"), "index_dir": str(root / "index")},
                             env={"KOTAE_DATA_DIR": str(root / "data")})
    return AnswerService(settings, embedder=FakeEmbedder(), params=PARAMS)
