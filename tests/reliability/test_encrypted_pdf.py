"""AES-encrypted PDFs (issue #17): one that opens without a password is read like any other;
one that needs a password, or an installation that cannot decrypt AES, is skipped with the
real reason."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from knowledge.errors import DocumentError
from knowledge.pdftext import extract_pdf
from tests.reliability.helpers import ROOT, child_env

TEXT = "ボツワナが日本方式を採用した"


def _pdf(user_password: str, algorithm: str = "AES-128") -> bytes:
    """A one-page PDF saying TEXT, encrypted with ``algorithm``."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(300, 200)
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    })
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    content = DecodedStreamObject()
    content.set_data(b"BT /F1 12 Tf 20 100 Td (Botswana adopted ISDB-T) Tj ET")
    page[NameObject("/Contents")] = writer._add_object(content)
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_an_aes_pdf_that_needs_no_password_is_read(algorithm):
    pdf = extract_pdf(_pdf("", algorithm), "open.pdf")
    assert "Botswana adopted ISDB-T" in pdf.text


@pytest.mark.timeout(60)
def test_an_aes_pdf_that_needs_a_password_says_so():
    with pytest.raises(DocumentError, match="without a password"):
        extract_pdf(_pdf("s3cret"), "locked.pdf")


@pytest.mark.timeout(120)
def test_without_aes_support_the_message_names_what_is_missing(tmp_path: Path):
    """An installation where `cryptography` cannot be imported: the PDF is not called
    password-protected, the missing package is named."""
    (tmp_path / "open.pdf").write_bytes(_pdf(""))
    code = textwrap.dedent(f"""
        import sys
        sys.modules["cryptography"] = None  # as if it were not installed
        sys.modules["Crypto"] = None
        from knowledge.errors import DocumentError
        from knowledge.pdftext import extract_pdf
        try:
            extract_pdf(open({str(tmp_path / "open.pdf")!r}, "rb").read(), "open.pdf")
        except DocumentError as exc:
            print(exc.reason)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), cwd=ROOT,
                         timeout=60, check=True)
    assert "cryptography" in out.stdout and "password" not in out.stdout, out.stdout


def test_aes_support_is_a_declared_dependency():
    """Installed from the project's own files, not by hand: `cryptography` is a dependency."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0].lower() for dep in project["dependencies"]}
    assert "cryptography" in names or "pypdf[crypto]" in " ".join(project["dependencies"]).lower()
