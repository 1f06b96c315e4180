"""Turning the raw bytes of a text file into ``str``, Japanese encodings first.

Order of attempts:

1. a byte-order mark: UTF-8 (``utf-8-sig``), UTF-32 or UTF-16 (little or big endian);
2. NUL bytes without a BOM mean a binary file: rejected;
3. strict UTF-8 (ISO-2022-JP is 7-bit, so it also arrives here and is recognised by its
   escape sequences);
4. a charset the file declares itself (an HTML ``<meta charset>``), if it decodes strictly;
5. the Japanese legacy encodings, strictly: CP932 (Shift_JIS as written by Windows; a
   superset of Shift_JIS that also has ``① ㈱ ～``), EUC-JP, then their JIS X 0213
   variants. One is accepted only if the result reads as Japanese: at least a fifth of its
   non-ASCII characters are kana and half-width katakana do not dominate (wrongly decoded
   bytes come out as kanji and half-width kana, almost never as hiragana);
6. ``charset-normalizer`` for everything else.

The decoded text is checked for control characters; a high share means binary content.
Shift_JIS and CP932 share their bytes, so a Shift_JIS file is reported as ``cp932``; the two
differ only for a handful of characters (``〜`` vs ``～``), where CP932's reading is kept.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass

from knowledge import limits
from knowledge.errors import EMPTY, DocumentError

__all__ = ["Decoded", "decode_text"]

_JAPANESE_CANDIDATES = ("cp932", "euc_jp", "shift_jis_2004", "euc_jis_2004")
_SJIS_ALIASES = frozenset({"shift_jis", "sjis", "s_jis", "ms_kanji", "windows_31j", "cp932"})
_CONTROL_OK = frozenset("\t\n\r\f\v\x1b")
_MAX_CONTROL_SHARE = 0.05


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # Python codec name


def _bom(raw: bytes) -> tuple[str, int] | None:
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", len(codecs.BOM_UTF8)
    if raw.startswith(codecs.BOM_UTF32_LE):
        return "utf-32-le", 4
    if raw.startswith(codecs.BOM_UTF32_BE):
        return "utf-32-be", 4
    if raw.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if raw.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    return None


def _codec_name(label: str) -> str | None:
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    return "cp932" if name.replace("-", "_") in _SJIS_ALIASES else name


def _strict(raw: bytes, encoding: str) -> str | None:
    try:
        return raw.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _reads_as_japanese(text: str) -> bool:
    non_ascii = kana = halfwidth = 0
    for ch in text:
        if ch < "\x80":
            continue
        non_ascii += 1
        if "\u3041" <= ch <= "\u30ff":
            kana += 1
        elif "\uff61" <= ch <= "\uff9f":
            halfwidth += 1
        elif unicodedata.category(ch) in ("Co", "Cc", "Cn"):
            return False
    return non_ascii > 0 and kana * 5 >= non_ascii and halfwidth * 2 < non_ascii


def _japanese(raw: bytes) -> Decoded | None:
    for encoding in _JAPANESE_CANDIDATES:
        text = _strict(raw, encoding)
        if text is not None and _reads_as_japanese(text):
            return Decoded(text, encoding)
    return None


def _detected(raw: bytes) -> Decoded | None:
    from charset_normalizer import from_bytes  # imported lazily: it is slow to import

    best = from_bytes(raw).best()
    if best is None:
        return None
    encoding = _codec_name(best.encoding) or best.encoding
    text = _strict(raw, encoding)
    return None if text is None else Decoded(text, encoding)


def _check_not_binary(text: str, path: str) -> None:
    controls = sum(
        1 for ch in text if ch not in _CONTROL_OK and unicodedata.category(ch) == "Cc"
    )
    if controls > _MAX_CONTROL_SHARE * len(text):
        share = round(100 * controls / len(text))
        raise DocumentError(
            path,
            f"looks like a binary file ({share}% control characters), not text; "
            "remove it from the documents folder or give it the right extension",
        )


def _decode(raw: bytes, path: str, declared: str | None) -> Decoded:
    bom = _bom(raw)
    if bom is not None:
        encoding, skip = bom
        text = _strict(raw[skip:], encoding)
        if text is None:
            raise DocumentError(
                path,
                f"starts with a {encoding} byte-order mark but is not valid {encoding}; "
                "re-save it as UTF-8",
            )
        return Decoded(text, encoding)
    if b"\x00" in raw:
        raise DocumentError(
            path,
            "looks like a binary file (it contains NUL bytes), not text; remove it from the "
            "documents folder, or if it is UTF-16 text without a byte-order mark, re-save it "
            "as UTF-8",
        )
    text = _strict(raw, "utf-8")
    if text is not None:
        if "\x1b$B" in text or "\x1b$@" in text:
            jis = _strict(raw, "iso2022_jp")
            if jis is not None:
                return Decoded(jis, "iso2022_jp")
        return Decoded(text, "utf-8")
    if declared:
        declared_codec = _codec_name(declared)
        text = _strict(raw, declared_codec) if declared_codec else None
        if declared_codec and text is not None:
            return Decoded(text, declared_codec)
    found = _japanese(raw) or _detected(raw)
    if found is None:
        raise DocumentError(
            path,
            "cannot tell its text encoding (it is not UTF-8, Shift_JIS/CP932 or EUC-JP); "
            "re-save it as UTF-8",
        )
    return found


def decode_text(raw: bytes, path: str, *, declared: str | None = None) -> Decoded:
    """Decode ``raw`` or raise :class:`DocumentError` naming ``path``.

    ``declared`` is a charset label the file states about itself (HTML), tried after UTF-8.
    Empty files and files holding only whitespace are refused: there is nothing to index; so
    is a text longer than :data:`knowledge.limits.MAX_TEXT_CHARS`.
    """
    if not raw:
        raise DocumentError(path, "the file is empty; add text to it or remove it", EMPTY)
    decoded = _decode(raw, path, declared)
    if len(decoded.text) > limits.MAX_TEXT_CHARS:
        raise DocumentError(path, limits.over_limit("its text", limits.MAX_TEXT_CHARS, "characters"))
    if not decoded.text or decoded.text.isspace():  # not .strip(): no copy of a large text
        raise DocumentError(path, "the file holds only whitespace; add text to it or remove it", EMPTY)
    _check_not_binary(decoded.text, path)
    return decoded
