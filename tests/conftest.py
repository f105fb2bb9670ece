"""Shared fixtures: the AppTest runner and hypothesis settings."""
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Property tests build real PyTorch layers: no per-example deadline on a loaded 2-core CI machine.
settings.register_profile("default", deadline=None, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, max_examples=60, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture
def app():
    """An AppTest of the whole app (router + shared sidebar), started on a given page."""
    from streamlit.testing.v1 import AppTest

    def start(page: str | None = None, query: dict | None = None, state: dict | None = None):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        for key, value in (state or {}).items():
            at.session_state[key] = value
        at.run()
        if page:
            at.switch_page(page).run()
        return at

    return start
