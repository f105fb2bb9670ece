"""`make run`'s first run: `python -m ui.first_run PORT`, beside `streamlit run`, runs the app once as soon as the
server answers, so that the first student finds it warm (ui/warm.py). Standard library only: it must not compete
with the starting server for the CPU (importing the app's modules costs 2 s).
"""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request


def after_start(port: int, timeout_s: float = 120.0) -> bool:
    """Run app.py once as soon as the server on `port` answers, so that the first student finds it warm.

    Streamlit runs a script on the first session only; its script health check (server.scriptHealthCheckEnabled,
    an endpoint that runs the script once in a session of its own and answers 200 or 503) lets `make run` do
    that first run itself: `python -m ui.first_run PORT` in the background beside `streamlit run`.
    """
    base = f"http://localhost:{port}/_stcore"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=2):
                pass
            with urllib.request.urlopen(f"{base}/script-health-check", timeout=timeout_s):
                return True
        except (OSError, urllib.error.URLError):
            time.sleep(0.5)
    return False


if __name__ == "__main__":
    sys.exit(0 if after_start(int(sys.argv[1])) else 1)
