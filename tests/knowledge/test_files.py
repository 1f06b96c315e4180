"""knowledge.files: only regular files are read, checked on the opened descriptor."""

from __future__ import annotations

import os

import pytest

from knowledge.files import FileTooLargeError, NotRegularFileError, open_regular, read_regular


def test_reads_a_regular_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("本文".encode())
    assert read_regular(path) == "本文".encode()
    assert read_regular(path, limit=6) == "本文".encode()


@pytest.mark.timeout(20)
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "doc.txt"
    os.mkfifo(fifo)  # nobody ever writes: a blocking open or read would hang the test
    with pytest.raises(NotRegularFileError, match="FIFO"):
        read_regular(fifo)


def test_devices_and_folders_are_refused(tmp_path):
    with pytest.raises(NotRegularFileError, match="device"):
        read_regular("/dev/zero", limit=10)
    with pytest.raises(NotRegularFileError, match="folder"):
        open_regular(tmp_path)


def test_limit_is_enforced_whatever_the_size(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 101)
    with pytest.raises(FileTooLargeError) as caught:
        read_regular(path, limit=100)
    assert caught.value.limit == 100 and isinstance(caught.value, OSError)


def test_final_symlink_refused_when_not_following(tmp_path):
    target = tmp_path / "t.txt"
    target.write_text("x")
    link = tmp_path / "l.txt"
    link.symlink_to(target)
    assert read_regular(link) == b"x"
    with pytest.raises(OSError):
        read_regular(link, follow_symlinks=False)
