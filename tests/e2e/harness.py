"""What every browser journey shares: the server, the browser, logging in, and the checks
each page of a journey must pass (accessibility, weight, translation, no outside hosts).

The journeys drive Debian's Chromium (``/usr/bin/chromium``) through Playwright against the
app served on 127.0.0.1 by werkzeug in a thread — a real HTTP server, real sessions and real
CSRF tokens. Screenshots go to ``test-artifacts/e2e/<journey>/``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
#: Without the background-networking flags Chromium calls home, and this network refuses it.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
AXE = ROOT / "tests" / "e2e" / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT_MS = 10_000
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
#: HTML + CSS + JS of one page, uncompressed: slow rural connections.
MAX_PAGE_BYTES = 60 * 1024
DEMO_PASSWORD = "demo-password"  # nosec B105  # the documented demo password (lms.demo)
LANGUAGES = ("en", "ru", "ky")
#: Browser locales, so dates and numbers are asked for as a user of that language would.
BROWSER_LOCALES = {"en": "en-GB", "ru": "ru-RU", "ky": "ky-KG"}


class OneRequestPerConnection(WSGIRequestHandler):
    """HTTP/1.0 and quiet: no kept-alive connection outlives a stop of the server, so a
    stopped server really answers nothing."""

    protocol_version = "HTTP/1.0"

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Keep the test output readable."""


class LiveServer:
    """A WSGI server in a thread that can be stopped and started again on the same port.

    The server is made before the app (which must know its own public address, the port
    included), so it serves whatever app is put in ``app`` later.
    """

    def __init__(self) -> None:
        self.app: Callable[..., Any] | None = None
        self.port = 0
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None, "no app to serve yet"
        return self.app(environ, start_response)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server = make_server(
            "127.0.0.1",
            self.port,
            self._dispatch,
            threaded=True,
            request_handler=OneRequestPerConnection,
        )
        self.port = self._server.port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join(timeout=5)
        self._server = self._thread = None


# --- translations ----------------------------------------------------------------------


@cache
def english_strings(language: str) -> frozenset[str]:
    """The English interface strings a page in ``language`` must not show as they are.

    Every message of the catalogue whose translation differs from the English, or is
    missing: seeing one of those on a Russian or Kyrgyz page means it went untranslated.
    Strings the translation keeps as they are (``PDF``, ``XLSX``) are left out.
    """
    from babel.messages.pofile import read_po

    path = ROOT / "lms" / "translations" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalogue = read_po(po)
    found = set()
    for message in catalogue:
        if not message.id or isinstance(message.id, tuple) or "%(" in message.id:
            continue
        text = " ".join(message.id.split())
        if len(re.findall(r"[A-Za-z]", text)) < 3:
            continue
        if message.string and " ".join(message.string.split()) == text:
            continue
        found.add(text)
    return frozenset(found)


#: The page's own words: text nodes and the attributes a user sees or hears, outside
#: content in another language (``lang`` on an element) and outside ``translate="no"``.
VISIBLE_WORDS_JS = """
(pageLang) => {
  const words = [];
  const skip = (el) => {
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      if (['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'CODE', 'PRE'].includes(node.tagName)) {
        return true;
      }
      if (node.getAttribute('translate') === 'no') return true;
      const lang = node.getAttribute('lang');
      if (lang && node !== document.documentElement && !lang.startsWith(pageLang)) return true;
    }
    return false;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.replace(/\\s+/g, ' ').trim();
    if (text && !skip(walker.currentNode.parentElement)) words.push(text);
  }
  const labelled = '[placeholder], [aria-label], [title], input[type=submit]';
  for (const el of document.querySelectorAll(labelled)) {
    if (skip(el)) continue;
    for (const name of ['placeholder', 'aria-label', 'title', 'value']) {
      if (name === 'value' && el.type !== 'submit') continue;
      const value = (el.getAttribute(name) || '').replace(/\\s+/g, ' ').trim();
      if (value) words.push(value);
    }
  }
  words.push(document.title.trim());
  return words;
}
"""


def untranslated(page: Any, language: str) -> list[str]:
    """English interface strings shown on a page meant to be in ``language``."""
    if language == "en":
        return []
    english = english_strings(language)
    shown = page.evaluate(VISIBLE_WORDS_JS, language)
    return sorted({text for text in shown if text in english})


# --- accessibility, weight, hosts --------------------------------------------------------


def axe_available() -> bool:
    return AXE.exists()


AXE_RUN_JS = """
async () => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
  });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' '))}));
}
"""


def accessibility_problems(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated by the debugger protocol, so the page's CSP (no inline script) allows it.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    return list(page.evaluate(AXE_RUN_JS))


PAGE_BYTES_JS = """
() => {
  const navigation = performance.getEntriesByType('navigation')[0];
  let total = navigation ? navigation.decodedBodySize : document.documentElement.outerHTML.length;
  const outside = [];
  for (const entry of performance.getEntriesByType('resource')) {
    if (!entry.name.startsWith(location.origin) && !entry.name.startsWith('data:')) {
      outside.push(entry.name);
    }
    const code = /\\.(css|js)(\\?|$)/.test(entry.name);
    if (code || ['script', 'css', 'link'].includes(entry.initiatorType)) {
      total += entry.decodedBodySize;
    }
  }
  return {total, outside};
}
"""


def page_weight(page: Any) -> tuple[int, list[str]]:
    """(bytes of HTML + CSS + JS, uncompressed; addresses loaded from other hosts)."""
    measured = page.evaluate(PAGE_BYTES_JS)
    return int(measured["total"]), list(measured["outside"])


@dataclass
class Journey:
    """One role's walk through the app in one language; collects what each page showed."""

    name: str
    language: str
    base_url: str
    shots: list[Path] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def check(self, page: Any, step: str, *, axe: bool = True) -> None:
        """Screenshot the page, then hold it to the rules every page must keep."""
        folder = ARTIFACTS / self.name
        folder.mkdir(parents=True, exist_ok=True)
        shot = folder / f"{self.language}-{len(self.shots) + 1:02d}-{step}.png"
        page.screenshot(path=str(shot), full_page=True)
        self.shots.append(shot)
        self.checked.append(page.url)
        where = f"{self.name}/{step} ({self.language}, {page.url})"

        assert page.evaluate("document.documentElement.lang") == self.language, where
        words = untranslated(page, self.language)
        assert not words, f"untranslated on {where}: {words}"
        size, outside = page_weight(page)
        assert size <= MAX_PAGE_BYTES, f"{where} weighs {size} bytes of HTML, CSS and JS"
        assert not outside, f"{where} loads from other hosts: {outside}"
        if axe:
            problems = accessibility_problems(page)
            assert not problems, f"accessibility on {where}:\n" + json.dumps(
                problems, ensure_ascii=False, indent=1
            )
        unlabelled = page.evaluate(UNLABELLED_FIELDS_JS)
        assert not unlabelled, f"form fields without a label on {where}: {unlabelled}"


UNLABELLED_FIELDS_JS = """
() => [...document.querySelectorAll('input, select, textarea')]
  .filter((el) => !['hidden', 'submit', 'button', 'reset'].includes(el.type))
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !el.getAttribute('aria-labelledby'))
  .map((el) => el.name || el.id || el.outerHTML.slice(0, 80))
"""


#: Elements that stick out of the viewport's width and are not inside something that
#: scrolls or clips sideways: what makes a whole page pan left and right on a phone.
SIDEWAYS_JS = """
() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const contained = (el) => {
    // An absolutely placed element is clipped by its containing block and what holds that,
    // not by a scrolling box between the two.
    const absolute = ['absolute', 'fixed'].includes(getComputedStyle(el).position);
    for (let node = absolute ? el.offsetParent : el.parentElement;
         node && node !== document.body; node = node.parentElement) {
      const overflow = getComputedStyle(node).overflowX;
      if (['auto', 'scroll', 'hidden', 'clip'].includes(overflow)) return true;
    }
    return false;
  };
  return [...document.body.querySelectorAll('*')]
    .filter((el) => el.getBoundingClientRect().right > width + 1 && !contained(el))
    .slice(0, 5)
    .map((el) => {
      const classes = typeof el.className === 'string' ? el.className.split(/\\s+/) : [];
      const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
      return [name, ...classes.filter(Boolean)].join('.');
    });
}
"""


def sideways_overflow(page: Any) -> tuple[int, list[str]]:
    """(the page's width beyond the viewport in pixels, what sticks out): a page read on a
    phone must scroll down only; a wide table scrolls inside its own ``.table-wrap``."""
    extra = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return int(extra), list(page.evaluate(SIDEWAYS_JS)) if extra > 0 else []


# --- driving the pages -------------------------------------------------------------------


def log_in(page: Any, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the log-in form, as a person would."""
    page.goto(f"{base_url}/account/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    # The log-in form's own button (the language switcher's form comes first on the page),
    # and wait for the answer to the post, not for the page already loaded.
    with page.expect_navigation():
        page.click("form:has(input[name=password]) button[type=submit]")
    assert "/account/login" not in page.url, f"{username} could not log in: {page.url}"


def log_out(page: Any) -> None:
    """The log-out button every page carries (a POST form)."""
    page.locator("form[action$='/account/logout'] button").first.click()
    page.wait_for_load_state()


def tab_to(page: Any, selector: str, *, limit: int = 80) -> None:
    """Press Tab until ``selector`` has the focus, as a keyboard user would reach it."""
    for _ in range(limit):
        if page.evaluate(
            "(s) => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def fill_by_keyboard(page: Any, fields: Iterable[tuple[str, str]], submit: str) -> None:
    """Fill a form with the keyboard alone: Tab to each field, type, then Enter on submit."""
    for selector, value in fields:
        tab_to(page, selector)
        page.keyboard.press("Control+A")
        page.keyboard.type(value)
    tab_to(page, submit)
    page.keyboard.press("Enter")
    page.wait_for_load_state()
