"""Walk every public URL of the app, found from its route table, so new routes are covered
automatically: HTML pages and machine-readable routes of the main app (every GET route outside
the manage app), and every GET operation of the API's OpenAPI document, all without credentials."""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from directory.config import UI_LOCALES

PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
OPENAPI_URL = "/api/v1/openapi.json"
SKIP_PREFIXES = ("/static/",)


@dataclass
class Ids:
    """Values for path parameters, by the parameter's meaning."""

    services: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    organizations: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    locales: tuple[str, ...] = UI_LOCALES
    formats: list[str] = field(default_factory=list)
    search: list[str] = field(default_factory=list)

    def values_for(self, name: str) -> list[str]:
        n = name.lower()
        if "locale" in n or n == "lang":
            return list(self.locales)
        if "service" in n:
            return self.services
        if "location" in n:
            return self.locations
        if "org" in n:
            return self.organizations
        if "place" in n or "region" in n or "city" in n:
            return self.places
        if "format" in n or n in ("kind", "name"):
            return self.formats
        if n in ("id", "uuid", "item_id"):
            return self.services + self.locations + self.organizations
        return []


def _fill(template: str, ids: Ids) -> list[str]:
    names = PARAM.findall(template)
    if not names:
        return [template]
    choices = [ids.values_for(n) for n in names]
    if any(not c for c in choices):
        return []
    urls = []
    for combo in itertools.product(*choices):
        url = template
        for name, value in zip(names, combo, strict=True):
            url = PARAM.sub(
                lambda m, n=name, v=value: v if m.group(1) == n else m.group(0), url, count=1
            )
        urls.append(url)
    return urls


def _is_manage(path: str) -> bool:
    return "/manage" in path


def flat_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, set[str], Any]]:
    """(path, methods, route) of every route, through included routers (FastAPI includes them
    lazily) and mounted apps."""
    for route in routes:
        if hasattr(route, "effective_candidates"):  # FastAPI's included router
            for candidate in route.effective_candidates():
                if hasattr(candidate, "effective_candidates"):
                    yield from flat_routes([candidate], prefix)
                else:
                    original = candidate.original_route
                    path = getattr(candidate, "path_format", None) or candidate.path
                    yield prefix + path, set(getattr(original, "methods", None) or ()), original
        elif isinstance(route, Mount):
            yield from flat_routes(list(getattr(route.app, "routes", [])), prefix + route.path)
        elif isinstance(route, Route):
            yield prefix + route.path, set(route.methods or ()), route


def page_urls(app: FastAPI, ids: Ids) -> list[str]:
    """Every GET URL of the main app's own routes (not the API mount, not manage, not static)."""
    urls: list[str] = []
    for path, methods, _route in flat_routes(list(app.routes)):
        if "GET" not in methods or _is_manage(path) or path.startswith("/api/"):
            continue
        if path.startswith(SKIP_PREFIXES) or path in ("/healthz", "/readyz"):
            continue
        for url in _fill(path, ids):
            urls.append(url)
            if url.endswith("/search"):
                urls += [f"{url}?q={q}" for q in ids.search]
    return sorted(set(urls))


def api_urls(client: TestClient, ids: Ids) -> tuple[list[str], dict[str, Any] | None]:
    """Every GET operation of the OpenAPI document, with ids filled in and search terms set."""
    response = client.get(OPENAPI_URL)
    if response.status_code != 200:
        return [], None
    doc = response.json()
    base = "/api/v1"
    servers = doc.get("servers") or []
    if servers and servers[0].get("url", "").startswith("/api"):
        base = servers[0]["url"].rstrip("/")
    urls: list[str] = []
    for path, ops in doc.get("paths", {}).items():
        if "get" not in ops or _is_manage(path):
            continue
        full = path if path.startswith("/api/") else base + path
        query_names = {
            p["name"] for p in ops["get"].get("parameters", []) if p.get("in") == "query"
        }
        for url in _fill(full, ids):
            urls.append(url)
            for qname in ("q", "query", "search", "text"):
                if qname in query_names:
                    urls += [f"{url}?{qname}={q}" for q in ids.search]
            for qname in ("locale", "lang"):
                if qname in query_names:
                    urls += [f"{url}?{qname}={loc}" for loc in ids.locales]
    return sorted(set(urls)), doc


def bodies(content: bytes) -> Iterator[str]:
    """The text of a response, and of every member when it is a zip (HSDS tabular exports)."""
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for name in archive.namelist():
                yield archive.read(name).decode("utf-8", "replace")
    else:
        yield content.decode("utf-8", "replace")


_LOADING_RELS = {
    "stylesheet",
    "icon",
    "shortcut",
    "apple-touch-icon",
    "preload",
    "prefetch",
    "modulepreload",
    "manifest",
    "dns-prefetch",
    "preconnect",
    "mask-icon",
}


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link":
            if set(a.get("rel", "").lower().split()) & _LOADING_RELS:
                self.urls.append(a.get("href", ""))
        elif tag in (
            "script",
            "img",
            "iframe",
            "embed",
            "source",
            "video",
            "audio",
            "track",
            "input",
            "frame",
        ):
            self.urls.append(a.get("src", ""))
            self.urls += [part.strip().split(" ")[0] for part in a.get("srcset", "").split(",")]
        elif tag == "object":
            self.urls.append(a.get("data", ""))
        if "style" in a:
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", a["style"])


def third_party_resources(html: str, own_origin: str = "http://testserver") -> list[str]:
    """URLs a browser would fetch by itself from another origin (scripts, styles, images ...)."""
    parser = _Resources()
    parser.feed(html)
    out = []
    for url in filter(None, (u.strip() for u in parser.urls)):
        if url.startswith("//") or (
            re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I)
            and not url.startswith(own_origin)
            and not url.startswith("data:")
        ):
            out.append(url)
    return out


_URL_ATTRS = {
    "href",
    "src",
    "action",
    "formaction",
    "xlink:href",
    "data",
    "poster",
    "background",
    "srcdoc",
    "ping",
    "lowsrc",
    "dynsrc",
    "codebase",
    "cite",
}
_DANGEROUS_TAGS = {"iframe", "object", "embed", "base", "frame", "frameset", "applet"}
_BAD_SCHEME = re.compile(r"^(?:javascript|vbscript|data:text/html|data:image/svg)", re.IGNORECASE)


class _Executable(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): v or "" for k, v in attrs}
        if tag == "script" and a.get("type", "").lower() in (
            "application/ld+json",
            "application/json",
        ):
            pass  # a data block: never executed; a payload breaking out of it shows up as a tag
        elif tag == "script":
            src = a.get("src", "")
            if not src.startswith("/static/"):
                self.found.append(f"<script> not from /static/: {src!r}")
            self._in_script = True
        if tag in _DANGEROUS_TAGS:
            self.found.append(f"<{tag}>")
        if tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            self.found.append("<meta http-equiv=refresh>")
        for name, value in a.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in _URL_ATTRS or name.endswith(":href"):
                cleaned = re.sub(r"[\x00-\x20]", "", value)
                if _BAD_SCHEME.match(cleaned):
                    self.found.append(f"<{tag} {name}={value[:40]!r}>")
            if name == "style" and re.search(
                r"expression\(|url\(\s*['\"]?\s*javascript", value, re.I
            ):
                self.found.append(f"<{tag} style=...>")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append("inline script content")


def executable_markup(html: str) -> list[str]:
    """Anything in a page that a browser would execute or that would load active content."""
    parser = _Executable()
    parser.feed(html)
    parser.close()
    return parser.found
