"""Links to files relative to the out folder: ``Links`` resolves each folder once and
must give what resolving every file in full gives, links and relative paths included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adloom.delivery.present import Links, relative_link


def by_full_resolve(path: Path, out: Path) -> str:
    return Path(os.path.relpath(path.resolve(), out.resolve())).as_posix()


def test_links_match_resolving_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    (out / "creatives" / "meta_feed").mkdir(parents=True)
    (out / "creatives" / "meta_feed" / "a.png").write_bytes(b"a")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "inner").mkdir(parents=True)
    (elsewhere / "inner" / "b.png").write_bytes(b"b")
    # A folder that is a link, a file that is a link, a link to a link's folder.
    (out / "creatives" / "linked").symlink_to(elsewhere / "inner")
    (out / "creatives" / "meta_feed" / "c.png").symlink_to(elsewhere / "inner" / "b.png")
    (out / "via").symlink_to(out / "creatives" / "linked")
    monkeypatch.chdir(tmp_path)
    paths = [
        out / "creatives" / "meta_feed" / "a.png",
        out / "creatives" / "meta_feed" / "c.png",
        out / "creatives" / "linked" / "b.png",
        out / "via" / "b.png",
        out / "creatives" / "meta_feed" / ".." / "meta_feed" / "a.png",
        out / "creatives" / "linked" / ".." / "b.png",
        out / "creatives" / "meta_feed" / "missing.png",
        elsewhere / "inner" / "b.png",
        Path("out/creatives/meta_feed/a.png"),
        Path("out/creatives/linked/b.png"),
    ]
    for base in (out, Path("out")):
        links = Links(base)
        for path in paths + paths:  # the second pass from the folders already resolved
            assert links(path) == by_full_resolve(path, base) == relative_link(path, base)
    assert Links(out)(paths[0]) == "creatives/meta_feed/a.png"
    assert Links(out)(paths[1]) == "../elsewhere/inner/b.png"
