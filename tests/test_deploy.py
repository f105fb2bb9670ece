"""The deployment files agree with `make run`: the Dockerfile runs it, packages.txt names the Debian packages."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from ui import first_run

ROOT = Path(__file__).resolve().parent.parent


def test_the_dockerfile_runs_make_run_and_checks_streamlits_health_endpoint():
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    assert 'ENTRYPOINT ["make", "run"]' in lines
    assert "HEALTHCHECK CMD curl --fail http://localhost:8501/_stcore/health" in lines
    assert any(line.startswith("EXPOSE 8501") for line in lines)
    assert re.search(r"^PORT\s*\?=\s*8501$", (ROOT / "Makefile").read_text(), re.M)  # the port make run serves


def test_packages_txt_lists_what_the_app_needs_from_debian():
    packages = (ROOT / "packages.txt").read_text().split()
    assert packages == ["graphviz"]  # dot renders every network drawing; the browser and Redis are for tests
    assert "graphviz" in (ROOT / ".ci" / "run").read_text() and "redis-server" in (ROOT / ".ci" / "run").read_text()


def test_make_run_s_first_run_warms_the_server(tmp_path):
    """The app's config enables Streamlit's script health check, and ui.first_run runs the app through it: the
    server answers 200 only when app.py ran without an error, so this also checks the first view runs clean."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, EXPLORER_CACHE_DIR=str(tmp_path / "cache"))
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert first_run.after_start(port, timeout_s=120)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not first_run.after_start(port, timeout_s=1)  # no server: it gives up, says so
