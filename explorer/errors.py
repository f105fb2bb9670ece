"""The project's own errors: each message is one sentence a student can act on."""


class ExplorerError(Exception):
    """Base class: anything the UI may show with st.error."""


class KnobError(ExplorerError, ValueError):
    """A knob value outside its declared range or an invalid combination of knobs."""


class UnknownNameError(ExplorerError, KeyError):
    """A family or preset name that is not registered."""

    def __str__(self):  # KeyError would quote the message
        return self.args[0] if self.args else ""


class ShapeError(ExplorerError, ValueError):
    """The input is too small (or too large) for the network: a spatial side collapses."""

    def __init__(self, message, layer=None, min_input=None):
        super().__init__(message)
        self.layer = layer
        self.min_input = min_input


class LimitError(ExplorerError, ValueError):
    """A request too large to compute safely (absurd input sizes or layer counts)."""


class SpecError(ExplorerError, ValueError):
    """A syntax error in a custom architecture, with its line and column."""

    def __init__(self, message, line=1, column=1, found="", expected=""):
        super().__init__(f"line {line}, column {column}: {message}")
        self.message, self.line, self.column, self.found, self.expected = message, line, column, found, expected

    def __reduce__(self):  # pickled (an analysis process's answer) as it was made, not from its formatted text
        return _rebuilt, (type(self), self.args, self.__dict__)


class ExperimentError(ExplorerError, RuntimeError):
    """A live experiment that cannot run with the settings given."""


class AnswerError(SpecError):
    """An exercise answer that is not a shape or a count: one line, so only the column is named."""

    def __init__(self, message, column=1, found="", expected=""):
        super().__init__(message, 1, column, found, expected)
        self.args = (f"column {column}: {message}",)


def _rebuilt(cls, args: tuple, state: dict):
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class DataError(ExplorerError, ValueError):
    """A dataset that cannot be loaded: a missing or corrupt folder, or an impossible selection."""
