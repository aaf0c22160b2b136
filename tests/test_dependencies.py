"""Every Python dependency is pinned in constraints.txt (what ./dev, the Dockerfile and CI
install)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _pins() -> dict[str, list[Version]]:
    pins: dict[str, list[Version]] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)\s*(;.*)?", line)
        assert match, f"constraints.txt: not an exact pin: {line!r}"
        pins.setdefault(canonicalize_name(match[1]), []).append(Version(match[2]))
    return pins


def test_every_declared_dependency_is_pinned_within_its_bounds() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += extra
    pins = _pins()
    for text in declared:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        assert name in pins, (
            f"{req.name} is in pyproject.toml but not in constraints.txt: run ./dev lock"
        )
        for version in pins[name]:
            assert req.specifier.contains(version, prereleases=True), (
                f"constraints.txt pins {req.name}=={version}, "
                f"outside pyproject's {req.specifier}: run ./dev lock"
            )


def test_every_install_goes_through_the_constraints() -> None:
    dev = (ROOT / "dev").read_text(encoding="utf-8")
    assert '-c "$ROOT/constraints.txt"' in dev and 'pip install -q "${PIP_PINNED[@]}" -e' in dev
    assert (
        "constraints.txt" in dev.split("local stamp=", 1)[1].split("\n", 1)[0]
    )  # a new pin reinstalls
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert (
        "pip install -c constraints.txt" in dockerfile
        and "COPY pyproject.toml README.md constraints.txt" in dockerfile
    )
