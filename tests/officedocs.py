"""Office files made by a real office suite from Debian's manuals, a scanned PDF, a broken file.

LibreOffice (``soffice --headless``, installed by ``scripts/system-deps.sh``) converts:

* a maint-guide-ja HTML chapter (upload) to Word (``.docx``) and to OpenDocument (``.odt``, which Kotae
  lists as an unsupported type);
* a debian-reference-ja HTML appendix (apa), which Calc imports cell by cell, to Excel (``.xlsx``);
* three body pages (30–32) of the typeset debian-reference-ja PDF to PowerPoint (``.pptx``: Impress imports
  each PDF page as a slide of text boxes).

The scanned PDF is two pages of the same PDF rendered to images (``pdftoppm``) and saved as a
PDF of images by Pillow: no text layer. Every ``soffice`` call gets its own profile folder, so
parallel runs never share one. :func:`office_files` builds everything once per test session
(the folder is reused when it is complete) or skips naming what is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.realdocs import require, require_program

__all__ = ["OfficeFiles", "excerpt_pdf", "office_files", "soffice_convert"]

_DONE = "complete"


@dataclass(frozen=True)
class OfficeFiles:
    folder: Path
    docx: Path
    odt: Path
    xlsx: Path
    pptx: Path
    pptx_source: Path  # the PDF whose pages became the slides, page k = slide k
    scanned: Path
    broken: Path


def soffice_convert(source: Path, fmt: str, out: Path, work: Path, infilter: str | None = None) -> Path:
    """``soffice --headless --convert-to fmt source`` into ``out`` with a private profile under ``work``."""
    soffice = require_program("soffice", "libreoffice-writer-nogui")
    profile = work / f"profile-{source.stem}-{fmt.split(':')[0]}"
    cmd = [soffice, f"-env:UserInstallation=file://{profile}", "--headless"]
    if infilter:
        cmd.append(f"--infilter={infilter}")
    cmd += ["--convert-to", fmt, "--outdir", str(out), str(source)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=900)
    shutil.rmtree(profile, ignore_errors=True)
    made = out / f"{source.stem}.{fmt.split(':')[0]}"
    if not made.exists():
        pytest.fail(f"soffice did not make {made.name} from {source.name}")
    return made


def excerpt_pdf(pdf: Path, first: int, last: int, out: Path) -> Path:
    """Pages ``first..last`` of ``pdf`` as a PDF of their own (pypdf copies them as they are)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    reader = PdfReader(pdf)
    for k in range(first - 1, last):
        writer.add_page(reader.pages[k])
    with open(out, "wb") as fh:
        writer.write(fh)
    return out


def _scanned(pdf: Path, out: Path, work: Path) -> Path:
    from PIL import Image

    pdftoppm = require_program("pdftoppm", "poppler-utils")
    subprocess.run([pdftoppm, "-f", "10", "-l", "11", "-r", "40", "-png", str(pdf), str(work / "scan")],
                   check=True, capture_output=True, timeout=300)
    pages = [Image.open(p).convert("RGB") for p in sorted(work.glob("scan*.png"))]
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:])
    return out


def office_files(base: Path) -> OfficeFiles:
    """The converted files in ``base/office`` (made once; reused when complete)."""
    guide = require("maint-guide-ja")
    reference = require("debian-reference-ja")
    assert reference.pdf is not None
    root = base / "office"
    folder = root / "docs"
    work = root / "work"
    files = OfficeFiles(
        folder=folder,
        docx=folder / "upload.ja.docx",
        odt=folder / "upload.ja.odt",
        xlsx=folder / "apa.ja.xlsx",
        pptx=folder / "slides.pptx",
        pptx_source=work / "slides.pdf",
        scanned=folder / "scanned.pdf",
        broken=folder / "broken.docx",
    )
    if (root / _DONE).exists():
        return files
    shutil.rmtree(root, ignore_errors=True)
    folder.mkdir(parents=True)
    work.mkdir()
    soffice_convert(guide.html_dir / "upload.ja.html", "docx:MS Word 2007 XML", folder, work)
    soffice_convert(guide.html_dir / "upload.ja.html", "odt", folder, work)
    soffice_convert(reference.html_dir / "apa.ja.html", "xlsx", folder, work, infilter="HTML (StarCalc)")
    excerpt_pdf(reference.pdf, 30, 32, files.pptx_source)
    soffice_convert(files.pptx_source, "pptx", folder, work, infilter="impress_pdf_import")
    _scanned(reference.pdf, files.scanned, work)
    files.broken.write_bytes(files.docx.read_bytes()[:3000])  # a download cut short
    (root / _DONE).write_text("ok\n")
    return files
