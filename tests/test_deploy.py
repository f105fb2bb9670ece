"""The deployment files agree with `make run`: the Dockerfile runs it, packages.txt names the Debian packages."""

import re
from pathlib import Path

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
