"""(Owned by the ops/security work; here to share the session's browser and live site.)
In a real browser (headless Chromium), with the pages' own Content Security Policy enforced:
no CSP violation, no script error, and no request to any other origin, on the public pages (with
htmx working) and the sign-in page."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import LiveSite

pytestmark = pytest.mark.browser

COLLECT_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
    e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture()
def strict_page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(bypass_csp=False, locale="uk-UA", service_workers="block")
    ctx.add_init_script(COLLECT_VIOLATIONS)
    page = ctx.new_page()
    yield page
    ctx.close()


def test_pages_run_under_their_csp_and_load_only_our_origin(
    strict_page: Any, live_site: LiveSite
) -> None:
    page = strict_page
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    # (htmx logs an aborted superseded request as a console error: not a policy matter)
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if "Content Security Policy" in m.text or "Refused to" in m.text
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    urls = [
        "/uk/",
        "/en/search?q=shelter",
        f"/ar/services/{live_site.service_ids[0]}",
        "/de/about",
        "/en/manage/login",
    ]
    for path in urls:
        response = page.goto(live_site.url + path)
        assert response is not None and response.status == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__csp")
        assert violations == [], (path, violations)
    # htmx runs under the policy: a search typed into the box updates the results in place
    page.goto(live_site.url + "/en/search")
    page.evaluate("window.__same_page = true")
    with page.expect_response(
        lambda r: "/en/search" in r.url and r.request.headers.get("hx-request") == "true"
    ):
        page.fill("#q", "food")
        page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"q=food"))
    assert page.evaluate("window.__same_page") is True  # swapped in place: htmx ran
    assert page.evaluate("window.__csp") == []
    assert problems == [], problems
    foreign = [u for u in requests if not u.startswith(live_site.url) and not u.startswith("data:")]
    assert foreign == []
    assert len(requests) >= len(urls)
    # The watcher is real: an inline script (what an injection would add) is blocked and seen.
    with contextlib.suppress(Exception):  # playwright may report the blocked script
        page.add_script_tag(content="window.__ran = true")
    assert page.evaluate("window.__ran === undefined")
    assert any("script-src" in v for v in page.evaluate("window.__csp"))
