"""Assertions shared by the AppTest and browser tests."""


def no_exceptions(at) -> None:
    """No traceback reached the page."""
    assert not at.exception, [e.value for e in at.exception]


def metric(at, label: str) -> str:
    for m in at.metric:
        if m.label == label:
            return m.value
    raise AssertionError(f"no metric '{label}' among {[m.label for m in at.metric]}")
