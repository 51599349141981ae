"""A tiny W3C WebDriver client over ``chromedriver``: no selenium, only the standard library.

Debian's ``chromium`` and ``chromium-driver`` packages provide the browser and the driver
(``apt-get install -y chromium chromium-driver``); ``find_browser`` says why a test skips.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["Browser", "find_browser"]

_ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def find_browser() -> tuple[str, str] | str:
    """(chromium, chromedriver) paths, or the reason there are none."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        return "no chromium/chromedriver: apt-get install -y chromium chromium-driver"
    return chromium, driver


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Browser:
    """One headless chromium session driven through chromedriver."""

    def __init__(self, chromium: str, driver: str) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="migproof-chromium-")
        port = _free_port()
        self._driver = subprocess.Popen(
            [driver, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._base = f"http://127.0.0.1:{port}"
        self._wait_for_driver()
        options = {
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--window-size=1280,900",
                f"--user-data-dir={self._profile.name}",
            ],
        }
        capabilities = {
            "browserName": "chrome",
            "goog:chromeOptions": options,
            "goog:loggingPrefs": {"browser": "ALL"},
        }
        answer = self._call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})
        self._session = f"/session/{answer['sessionId']}"

    def _wait_for_driver(self) -> None:
        deadline = time.monotonic() + 20
        while True:
            try:
                self._call("GET", "/status")
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _call(self, method: str, path: str, body: object | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self._base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())["value"]

    def open(self, path: Path) -> None:
        self._call("POST", f"{self._session}/url", {"url": path.resolve().as_uri()})

    def script(self, source: str, *args: object) -> Any:
        return self._call("POST", f"{self._session}/execute/sync", {"script": source, "args": args})

    def click(self, css: str) -> None:
        found = self._call(
            "POST", f"{self._session}/element", {"using": "css selector", "value": css}
        )
        self._call("POST", f"{self._session}/element/{found[_ELEMENT]}/click", {})

    def console(self) -> list[dict[str, Any]]:
        """The browser console's entries since the last call."""
        entries: list[dict[str, Any]] = self._call(
            "POST", f"{self._session}/se/log", {"type": "browser"}
        )
        return entries

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self._call("GET", f"{self._session}/screenshot")))

    def close(self) -> None:
        try:
            self._call("DELETE", self._session)
        finally:
            self._driver.terminate()
            self._driver.wait(timeout=20)
            self._profile.cleanup()
