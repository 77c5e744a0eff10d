"""Save the first screen of a report as seen in headless Chromium (``make report``).

Usage: ``python tools/report_screenshot.py REPORT_DIR`` writes ``REPORT_DIR/first_screen.png``
(1280 x 900 CSS pixels) and adds it to the report's manifest. Needs Debian's chromium and
chromium-driver and selenium (the ``test`` extra); see :mod:`kursk_da.report._browser`.
"""

from __future__ import annotations

import sys

from kursk_da.report import browser_unavailable, screenshot_first_screen


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python tools/report_screenshot.py REPORT_DIR", file=sys.stderr)
        return 2
    reason = browser_unavailable()
    if reason is not None:
        print(f"report_screenshot: cannot run headless Chromium: {reason}", file=sys.stderr)
        return 1
    print(f"first screen written to {screenshot_first_screen(argv[0])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
