"""Headless Chromium for the report: the first-screen screenshot and the browser test.

The browser and its driver are Debian's (``apt-get install chromium chromium-driver``),
named explicitly (:data:`CHROMIUM`, :data:`CHROMEDRIVER`), so selenium never runs
selenium-manager and nothing downloads a browser or a driver; ``SE_AVOID_STATS=true``
turns selenium's telemetry off, and the flags (:data:`FLAGS`) switch off Chromium's
background networking, component updates, sync and first-run screens. selenium is
imported only here, on first use (it is in the ``test`` extra).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kursk_da.errors import ResultFileError
from kursk_da.report._writer import HTML_NAME, MANIFEST_NAME

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

__all__ = ["CHROMIUM", "CHROMEDRIVER", "FLAGS", "FIRST_SCREEN_NAME", "FIRST_SCREEN_SIZE",
           "browser_unavailable", "headless_chromium", "screenshot_first_screen"]

CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium."""
CHROMEDRIVER = "/usr/bin/chromedriver"
"""Debian's chromedriver (package chromium-driver), the same version as the browser."""
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars")
"""Chromium's command-line flags (``--user-data-dir`` is a fresh temporary directory)."""
FIRST_SCREEN_NAME = "first_screen.png"
"""The screenshot of the report's first screen, written into the report directory."""
FIRST_SCREEN_SIZE = (1280, 900)
"""Width and height of the first screen, CSS pixels."""


def browser_unavailable() -> str | None:
    """Why the headless browser cannot run here, or None when it can."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        return (f"{' and '.join(missing)} not found: apt-get install chromium chromium-driver "
                "(Debian)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[test]'"
    return None


@contextmanager
def headless_chromium(width: int = FIRST_SCREEN_SIZE[0],
                      height: int = FIRST_SCREEN_SIZE[1]) -> Iterator[WebDriver]:
    """A headless Chromium driven by selenium, closed on exit.

    Parameters
    ----------
    width, height : int
        Window size, CSS pixels.

    Yields
    ------
    selenium.webdriver.Chrome
        With the browser console log enabled (``driver.get_log("browser")``).

    Raises
    ------
    RuntimeError
        When the browser, the driver or selenium is missing (:func:`browser_unavailable`).
    """
    reason = browser_unavailable()
    if reason is not None:
        raise RuntimeError(f"headless Chromium unavailable: {reason}")
    os.environ["SE_AVOID_STATS"] = "true"  # no selenium telemetry
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="kursk-da-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        driver.set_window_size(width, height)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _add_to_manifest(directory: Path, name: str) -> None:
    path = directory / MANIFEST_NAME
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultFileError(f"report_dir: {directory} has no readable {MANIFEST_NAME}; "
                              "write the report first") from exc
    data["files"] = sorted(set(data.get("files", [])) | {name})
    recorded = data.get("sha256")
    hashes: dict[str, str] = dict(recorded) if isinstance(recorded, dict) else {}
    hashes[name] = hashlib.sha256((directory / name).read_bytes()).hexdigest()
    data["sha256"] = dict(sorted(hashes.items()))  # replaced later only if unchanged
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def screenshot_first_screen(report_dir: str | Path,
                            size: tuple[int, int] = FIRST_SCREEN_SIZE) -> Path:
    """Open ``report_dir/report.html`` in headless Chromium and save its first screen.

    The PNG (:data:`FIRST_SCREEN_NAME`) is written into the report directory and added
    to its manifest, so a later ``kursk-da report --out`` still replaces the directory.

    Parameters
    ----------
    report_dir : str or Path
        A directory written by :func:`kursk_da.report.write_report`.
    size : (int, int)
        Width and height of the screen, CSS pixels.

    Returns
    -------
    Path
        The PNG file.
    """
    directory = Path(report_dir).resolve()
    html_file = directory / HTML_NAME
    if not html_file.is_file():
        raise ResultFileError(f"report_dir: no {HTML_NAME} in {directory}")
    out = directory / FIRST_SCREEN_NAME
    tmp = directory / f".{FIRST_SCREEN_NAME}.tmp-{os.getpid()}.png"
    with headless_chromium(*size) as driver:
        driver.get(html_file.as_uri())
        driver.execute_script("window.scrollTo(0, 0);")
        if not driver.save_screenshot(str(tmp)):
            raise RuntimeError("the browser did not write the screenshot")
    os.replace(tmp, out)
    _add_to_manifest(directory, FIRST_SCREEN_NAME)
    return out
