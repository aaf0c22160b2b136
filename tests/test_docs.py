"""The docs a person reads: every relative link in README.md and docs/ points at a file that exists
(and at a heading that exists, for `#anchor` links), and the README stays a page for a person
arriving."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *sorted((ROOT / "bench" / "results").glob("*.md")),
]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    # GitHub's rule: lower case, drop punctuation except - and _, spaces to -
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return {_anchor(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, flags=re.M)}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc: Path) -> None:
    text = re.sub(r"```.*?```", "", doc.read_text(), flags=re.S)
    broken = []
    for m in LINK.finditer(text):
        target = m.group(1) or m.group(2)
        if re.match(r"^[a-z]+:", target) or target.startswith("//"):
            continue  # absolute URLs (http:, mailto:) are not checked offline
        path_part, _, frag = target.partition("#")
        dest = (doc.parent / path_part).resolve() if path_part else doc
        if not dest.exists() or frag and dest.suffix == ".md" and frag not in _anchors(dest):
            broken.append(target)
    assert not broken, f"{doc.relative_to(ROOT)} links to missing files or headings: {broken}"


def test_readme_is_for_a_person_arriving() -> None:
    text = (ROOT / "README.md").read_text()
    assert len(text.encode()) <= 30_000, "README.md grew past 30 KB: guides belong in docs/"
    assert re.search(r"^## Quick start", text, flags=re.M)


def test_the_docs_site_builds_strictly(tmp_path: Path) -> None:
    """MkDocs builds docs/ with every warning an error (broken anchors, pages not found)."""
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--quiet",
            "--site-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "index.html").exists() and (tmp_path / "deploying.html").exists()
