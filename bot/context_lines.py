"""Lines that give a quote its context but never answer anything themselves.

A sentence span of a passage is not always a sentence: web pages start with a breadcrumb
(「総務省トップ > 広報・報道 > 報道資料一覧 > …」), reference lists are URLs with a label
(「*2 コンテンツ海外展開協議会：http://…」), photos carry captions (「…大臣会合の模様」), and
manuals caption their tables (「表3.1 ブートローダーのリスト」) above a row of column names
(「パッケージ ポプコン サイズ 説明」). Such a line can be the most similar to a question, since it
names the topic, but quoting it answers nothing, so quote choice skips it (the quote's citation
still shows the section it sits in). The rules are deliberately narrow: a line that ends like a
sentence is never context, and a table row is context only when it is the row of names right
under a table caption.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["is_context"]

_URL = re.compile(r"<?(?:https?://|www\.)[^\s<>]+>?")
_CRUMB = re.compile(r"\s[>＞›»]\s")
_CAPTION = re.compile(r"(?:模様|様子|風景|写真|(?<!意)図|イメージ)\s*[)）」』]?$")
_TABLE_CAPTION = re.compile(r"^(?:表|図|Table|Figure|Fig\.)\s*[0-9０-９]+(?:[.．\-][0-9０-９]+)*\s", re.IGNORECASE)
_DIGIT = re.compile(r"[0-9]")

MAX_LABEL_CHARS = 40  # a caption, reference label or column-name row is shorter than this


def _visible(text: str) -> int:
    return sum(not ch.isspace() for ch in text)


def _is_sentence(line: str) -> bool:
    """Does ``line`` (NFKC) end like a sentence, closing brackets aside?"""
    return line.rstrip().rstrip("」』）)\"'”’").endswith(("。", ".", "!", "?"))


def is_context(text: str, before: str | None = None) -> bool:
    """Is ``text`` (one sentence span) a breadcrumb, a URL or reference line, a caption, or the
    row of column names under a table caption (``before`` is the span just before it)?"""
    line = unicodedata.normalize("NFKC", text).strip()
    if not line:
        return True
    if len(_CRUMB.findall(line)) >= 2:
        return True  # breadcrumb: 総務省トップ > 広報・報道 > …
    if _is_sentence(line):
        return False
    if _URL.search(line) and _visible(_URL.sub("", line)) <= MAX_LABEL_CHARS:
        return True  # a URL alone, or a reference label with its URL
    short = _visible(line) <= MAX_LABEL_CHARS
    if short and _TABLE_CAPTION.match(line):
        return True  # 表3.1 ブートローダーのリスト
    if short and _CAPTION.search(line):
        return True  # …会合の模様
    if short and before is not None and not _DIGIT.search(line):
        previous = unicodedata.normalize("NFKC", before).strip()
        return bool(_TABLE_CAPTION.match(previous)) and not _is_sentence(previous)  # column names under 表N
    return False
