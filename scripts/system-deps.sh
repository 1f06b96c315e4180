#!/bin/sh
# Debian packages that the tests, the development question sets and the benchmarks use:
#   maint-guide-ja, debian-reference-ja, debian-edu-doc-ja  real Japanese manuals nobody here
#       wrote (HTML, a typeset PDF, EPUB), read from /usr/share/doc, never copied into the repo;
#   libreoffice-*-nogui  a real office suite, run headless to turn those manuals into
#       .docx/.pptx/.xlsx/.odt fixtures;
#   poppler-utils  pdftotext/pdftoppm, an independent reading of PDF pages.
# Installs what is missing when it can (root and apt-get); otherwise it says so and the tests
# that need a package skip with a reason naming it. Safe to run again: it only installs what
# dpkg does not already have.
set -eu

PACKAGES="maint-guide-ja debian-reference-ja debian-edu-doc-ja
libreoffice-writer-nogui libreoffice-impress-nogui libreoffice-calc-nogui poppler-utils"

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "system-deps: not a Debian system; tests that need Debian's manuals or LibreOffice will be skipped." >&2
    exit 0
fi

missing=""
for pkg in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $pkg" ;;
    esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: missing Debian packages:$missing" >&2
    echo "system-deps: install them with: sudo apt-get install --no-install-recommends$missing" >&2
    echo "system-deps: until then the tests that need them are skipped." >&2
    exit 0
fi

echo "system-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086  # the package list is meant to split into words
apt-get install -y -q --no-install-recommends $missing >/dev/null
