"""Screenshots of every page of a month's reports, for review: ``make screenshots``.

Renders the demo month (or takes ``--reports DIR``: a month folder, or a reports folder whose newest
month is used) and writes, for each page, ``<page>.png`` (the first screen a laptop shows, 1366x768)
and ``<page>.full.png`` (the whole page) into ``screenshots/``, with headless Chromium (Debian's
``chromium``) driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: no port, no
network). Every host name is unresolvable while it runs, as in tests/test_pages.py.

    .venv/bin/python tools/screenshots.py                       # render 2026-11 of data/demo.duckdb first
    .venv/bin/python tools/screenshots.py --reports reports/2026-11
    .venv/bin/python tools/screenshots.py --readme              # also copy the index to docs/img/index.png
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 1366, 768


class Browser:
    """Headless Chromium over ``--remote-debugging-pipe`` (requests on fd 3, replies on fd 4, each a
    JSON message ended by a NUL byte)."""

    def __init__(self, chromium: str) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def fds() -> None:  # the child's fd 3 and 4 are the pipe's ends (copied first: they may be 3 or 4)
            reads, writes = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(reads, 3)
            os.dup2(writes, 4)

        self.process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--host-resolver-rules=MAP * ~NOTFOUND", "--remote-debugging-pipe", "about:blank"],
            pass_fds=(3, 4), preexec_fn=fds,  # noqa: PLW1509 - a single-threaded tool
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []
        target = next(t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", targetId=target["targetId"], flatten=True)["sessionId"]
        self.call("Page.enable", session=True)

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: bool = False, **params) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, event: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e.get("method") == event for e in self.events):
                self.events.clear()
                return
            self.events.append(self._read())
        raise TimeoutError(event)

    def shoot(self, page: Path, first: Path, full: Path) -> None:
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=WIDTH, height=HEIGHT,
                  deviceScaleFactor=1, mobile=False)
        self.events.clear()
        self.call("Page.navigate", session=True, url=page.resolve().as_uri())
        self.wait_for("Page.loadEventFired")
        # the tables' script inflates and sets up DataTables after the load event: wait for it
        for _ in range(50):
            done = self.call("Runtime.evaluate", session=True, expression=(
                "!document.querySelector('table.csr-interactive') || "
                "document.documentElement.dataset.csrTables !== undefined"))
            if done.get("result", {}).get("value"):
                break
            time.sleep(0.2)
        # an embedded font subset (Japanese pages, report.webfont) must have loaded, or glyphs draw as boxes
        self.call("Runtime.evaluate", session=True, awaitPromise=True,
                  expression="document.fonts.ready.then(() => document.fonts.status)")
        shot = self.call("Page.captureScreenshot", session=True, format="png")
        first.write_bytes(base64.b64decode(shot["data"]))
        height = self.call("Runtime.evaluate", session=True,
                           expression="document.documentElement.scrollHeight")["result"]["value"]
        shot = self.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True,
                         clip={"x": 0, "y": 0, "width": WIDTH, "height": int(height), "scale": 1})
        full.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def month_folder(reports: Path) -> Path:
    if (reports / "index.html").exists():
        return reports
    months = sorted(p for p in reports.iterdir() if p.is_dir() and (p / "index.html").exists())
    if not months:
        raise SystemExit(f"no month folder with an index.html in {reports}")
    return months[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=Path, help="a month folder (or a reports folder) already rendered")
    parser.add_argument("--month", default="2026-11", help="the month to render when --reports is not given")
    parser.add_argument("--data", default="data/demo.duckdb", help="the data to render when --reports is not given")
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--readme", action="store_true", help="also write docs/img/index.png (the README's)")
    args = parser.parse_args(argv)

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("screenshots need Debian's chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    if args.reports is None:
        scratch = Path(tempfile.mkdtemp(prefix="csresearch-screens-"))
        cli = Path(sys.executable).with_name("csresearch")
        command = [str(cli) if cli.exists() else "csresearch", "run", "--month", args.month, "--data", args.data,
                   "--reports", str(scratch)]
        print(" ".join(command))
        subprocess.run(command, check=False, cwd=ROOT)
        args.reports = scratch
    folder = month_folder(args.reports)
    args.out.mkdir(parents=True, exist_ok=True)
    browser = Browser(chromium)
    try:
        for page in sorted(folder.glob("*.html")):
            first, full = args.out / f"{page.stem}.png", args.out / f"{page.stem}.full.png"
            browser.shoot(page, first, full)
            print(f"{page.name}: {first.relative_to(ROOT) if first.is_relative_to(ROOT) else first}, {full.name}")
    finally:
        browser.close()
    if args.readme:
        target = ROOT / "docs" / "img" / "index.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.out / "index.png", target)
        print(f"README image: {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
