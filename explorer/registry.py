"""Families, their knobs and presets: declared once, read by the UI, the CLI and the tests.

A family is a builder (a function returning an nn.Module) plus the declaration of its
keyword arguments ("knobs"). A preset is a named dict of knob values, as timm names
its variants. `build(family, **{**preset, **sliders})` is the whole contract.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import math
import numbers
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import KnobError, LimitError, UnknownNameError

KINDS = ("int", "float", "bool", "choice", "ints", "text")
_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f"}


@dataclass(frozen=True)
class Knob:
    """One constructor keyword: its type, range or choices, default and one-line help."""

    name: str
    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple = ()
    label: str | None = None
    optional: bool = False  # None is allowed and means "derived from the other knobs"
    auto: str = ""  # how the value is derived when it is None
    max_len: int = 8  # for "ints": the longest list accepted; for "text": the most characters
    # the valid values given the other knobs (ResNet's depth: 6n+2 or 9n+2 with the CIFAR stem), for a control
    # that offers only those; None: every whole number of the range
    values: Callable[[dict], tuple] | None = field(default=None, compare=False)

    def __post_init__(self):
        assert self.kind in KINDS, self.kind
        if self.kind == "choice":
            assert self.choices, f"{self.name}: a choice knob needs choices"

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ")

    def coerce(self, value: Any) -> Any:
        """Turn a Python value or a string (CLI, URL) into this knob's type, or raise KnobError."""
        if self.kind == "text" and value is not None:  # free text (a custom architecture): its own parser judges it
            if not isinstance(value, str):
                raise KnobError(f"'{self.name}' expects text, got {value!r}.")
            self.validate(value)
            return value
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto", "none")):
            if self.optional:
                return None
            raise KnobError(f"'{self.name}' needs a value ({self._range_text()}).")
        try:
            value = self._convert(value)
        except (TypeError, ValueError):
            raise KnobError(
                f"'{self.name}' expects {self._type_text()}, got {shorten(value)}; {self._range_text()}."
            ) from None
        self.validate(value)
        return value

    def _convert(self, value):
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, (int, float)) and value in (0, 1):
                return bool(value)
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(value)
        if self.kind == "int":
            if isinstance(value, bool):
                raise ValueError(value)
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError(value)
                return int(value)
            return whole(value) if isinstance(value, str) else int(value)
        if self.kind == "float":
            if isinstance(value, bool):
                raise ValueError(value)
            if isinstance(value, str) and not _DECIMAL.fullmatch(value.strip()):
                raise ValueError(value)  # unicode digits, '1_0', 'nan', 'inf'
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(value)
            return number
        if self.kind == "choice":
            for choice in self.choices:
                if value == choice or str(value).strip().lower() == str(choice).lower():
                    return choice
            raise ValueError(value)
        # ints: "6,12,24,16", "6-12-24-16", "(6, 12, 24, 16)" or a sequence
        if isinstance(value, str):
            text = value.strip().strip("()[]").strip()
            if _DASHED.fullmatch(text):  # 6-12-24-16: dashes as separators only between plain numbers
                return tuple(whole(p) for p in text.split("-"))
            if text.endswith(","):  # Python's one-element tuple, '(6,)'
                text = text[:-1].rstrip()
            parts = re.split(r"\s*,\s*|\s+", text)  # '6,-12,24' keeps its sign (and is refused)
            if "" in parts:  # '6,,12' or ',6': a number left out is refused, not skipped
                raise ValueError(value)
            return tuple(whole(p) for p in parts)
        return tuple(int(v) for v in value)

    def validate(self, value: Any) -> None:
        if value is None and self.optional:
            return
        if self.kind == "choice":
            if value not in self.choices:
                raise KnobError(f"'{self.name}' must be one of {self._choices_text()}; got {value!r}.")
            return
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise KnobError(f"'{self.name}' must be true or false; got {value!r}.")
            return
        if self.kind == "text":
            if len(value) > self.max_len:
                raise KnobError(f"'{self.name}' takes at most {self.max_len:,} characters; got {len(value):,}.")
            return
        values = value if self.kind == "ints" else (value,)
        if self.kind == "ints":
            if not isinstance(value, tuple) or not value:
                raise KnobError(f"'{self.name}' needs at least one number, e.g. '{_fmt_ints(self.default or (1,))}'.")
            if len(value) > self.max_len:
                raise KnobError(f"'{self.name}' takes at most {self.max_len} numbers; got {len(value)}.")
        for v in values:
            if (self.low is not None and v < self.low) or (self.high is not None and v > self.high):
                what = "each number of " if self.kind == "ints" else ""
                raise KnobError(f"{what}'{self.name}' must be {self._range_text()}; got {v}.")

    def format(self, value: Any) -> str:
        if value is None:
            return "auto"
        if self.kind == "ints":
            return _fmt_ints(value)
        if self.kind == "bool":
            return "true" if value else "false"
        return str(value)  # text as typed

    def _type_text(self) -> str:
        return {
            "int": "a whole number",
            "float": "a number",
            "bool": "true or false",
            "choice": f"one of {self._choices_text()}",
            "ints": "whole numbers separated by commas",
            "text": f"text of at most {self.max_len:,} characters",
        }[self.kind]

    def _range_text(self) -> str:
        if self.kind == "choice":
            return f"one of {self._choices_text()}"
        if self.kind in ("bool", "text"):
            return self._type_text()
        if self.low is not None and self.high is not None:
            return f"between {_num(self.low)} and {_num(self.high)}"
        if self.low is not None:
            return f"at least {_num(self.low)}"
        return self._type_text()

    def _choices_text(self) -> str:
        return ", ".join(str(c) for c in self.choices)


_WHOLE = re.compile(r"[+-]?[0-9]{1,12}")
_DECIMAL = re.compile(r"[+-]?([0-9]{1,12}(\.[0-9]{0,12})?|\.[0-9]{1,12})([eE][+-]?[0-9]{1,3})?")
_DASHED = re.compile(r"[0-9]{1,12}(-[0-9]{1,12})+")
SHOWN = 40  # characters of a user's value quoted in a message


def whole(text) -> int:
    """A whole number written with ASCII digits (int() also takes '２０', '1_0' and 5,000 digits): else ValueError."""
    text = str(text).strip()
    if not _WHOLE.fullmatch(text):
        raise ValueError(text)
    return int(text)


def shorten(value, limit: int = SHOWN) -> str:
    """A user's value quoted in a message: repr-quoted, cut to `limit` characters with its length."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        return f"'{text[: limit - 10]}…' ({len(text):,} characters)"
    return f"'{text}'" if isinstance(value, str) else text


def _num(x) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _fmt_ints(values) -> str:
    return ",".join(str(v) for v in values)


@dataclass(frozen=True)
class Preset:
    """A named dict of knob values, with the input it is usually analysed at."""

    name: str
    family: str
    knobs: dict
    title: str
    input_shape: tuple | None = None


@dataclass
class Family:
    """A builder and the declaration of its knobs."""

    name: str
    title: str
    builder: Callable[..., Any]
    knobs: tuple[Knob, ...]
    default_input: tuple[int, int, int] = (3, 32, 32)
    paper: str = ""
    summary: str = ""
    derive: Callable[[dict], dict] | None = None  # fills auto knobs, checks combinations
    input_knob: str | None = None  # a knob that is the input side (MobileNet's resolution)
    # the input the knobs themselves declare (a custom network's Keras input_shape=), or None
    input_from: Callable[[dict], tuple | None] | None = None
    presets: dict[str, Preset] = field(default_factory=dict)

    def __post_init__(self):
        params = inspect.signature(self.builder).parameters
        names = [k.name for k in self.knobs]
        assert len(set(names)) == len(names), f"{self.name}: knob declared twice"
        for name in names:  # every knob is a builder keyword of exactly the same name
            assert name in params, f"{self.name}: knob '{name}' is not a keyword of {self.builder.__name__}"

    def make(self, knobs: dict, in_channels: int):
        """Call the builder with these knobs (and the input's channels, when the builder takes them)."""
        if self._takes_in_channels:
            return self.builder(**knobs, in_channels=in_channels)
        return self.builder(**knobs)

    @functools.cached_property
    def _takes_in_channels(self) -> bool:
        return "in_channels" in inspect.signature(self.builder).parameters

    def knob(self, name: str) -> Knob:
        for k in self.knobs:
            if k.name == name:
                return k
        raise KnobError(f"{self.title} has no knob {shorten(name)}; its knobs are {', '.join(self.knob_names)}.")

    @property
    def knob_names(self) -> list[str]:
        return [k.name for k in self.knobs]

    def defaults(self) -> dict:
        return {k.name: k.default for k in self.knobs}

    def check(self, knobs: dict) -> dict:
        """Coerce and validate each knob, then the family's own combination rules."""
        values = self.defaults()
        for name, value in knobs.items():
            values[name] = self.knob(name).coerce(value)
        return values

    def resolve(self, knobs: dict) -> dict:
        """Validated knobs with the auto ones filled in: what the builder will actually use."""
        values = self.check(knobs)
        return self.derive(dict(values)) if self.derive else values

    def input_for(self, knobs: dict, input_shape=None) -> tuple[int, int, int]:
        if self.input_knob and input_shape is None:
            side = knobs.get(self.input_knob)
            if side is not None:
                return (self.default_input[0], int(side), int(side))
        return tuple(input_shape) if input_shape is not None else tuple(self.default_input)


_FAMILIES: dict[str, Family] = {}
_PRESETS: dict[str, Preset] = {}


def register(
    family: Family, presets: dict[str, dict] | None = None, titles: dict | None = None, inputs: dict | None = None
) -> Family:
    """Register a family and its presets (name -> knob dict)."""
    assert family.name not in _FAMILIES, family.name
    _FAMILIES[family.name] = family
    for name, knobs in (presets or {}).items():
        # a preset may share its family's name (mobilenet_v2): the name then means the family's defaults
        assert name not in _PRESETS and (name not in _FAMILIES or name == family.name), name
        assert name != family.name or family.check(knobs) == family.defaults(), f"{name} must be the defaults"
        family.check(knobs)  # a preset must be valid by construction
        preset = Preset(name, family.name, dict(knobs), (titles or {}).get(name, name), (inputs or {}).get(name))
        family.presets[name] = preset
        _PRESETS[name] = preset
    return family


def all_families() -> dict[str, Family]:
    """Every registered family (explorer/__init__.py imports explorer.families, whose modules register them)."""
    return dict(_FAMILIES)


def all_presets() -> dict[str, Preset]:
    return dict(_PRESETS)


def get_family(name: str) -> Family:
    fams = all_families()
    if name in fams:
        return fams[name]
    if name in _PRESETS:
        return fams[_PRESETS[name].family]
    raise UnknownNameError(_unknown(name))


def lookup(name: str) -> tuple[Family, Preset | None]:
    """A family or preset name: the family, and the preset if the name was one."""
    fams = all_families()
    if name in fams:
        return fams[name], fams[name].presets.get(name)  # None unless a preset has the family's name
    if name in _PRESETS:
        preset = _PRESETS[name]
        return fams[preset.family], preset
    raise UnknownNameError(_unknown(name))


def _unknown(name: str) -> str:
    known = sorted(list(_FAMILIES) + list(_PRESETS))
    close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.6)
    hint = (
        f" Did you mean {' or '.join(repr(c) for c in close)}?"
        if close
        else " Run 'python -m explorer list' to see them."
    )
    return f"{shorten(str(name))} is neither a family nor a preset.{hint}"


@dataclass(frozen=True)
class Config:
    """A fully specified network: family, preset (if any), knobs as given, input shape."""

    family: str
    preset: str | None
    knobs: tuple  # ((name, value), ...) as validated, auto knobs still None
    input_shape: tuple[int, int, int]

    @property
    def knob_dict(self) -> dict:
        return dict(self.knobs)


def configure(name: str, input_shape=None, **knobs) -> Config:
    """Validate a family/preset name, knobs and input shape into a hashable Config."""
    family, preset = lookup(name)
    merged = {**(preset.knobs if preset else {}), **knobs}
    values = family.check(merged)
    if (
        input_shape is None
        and preset is not None
        and preset.input_shape
        and not (family.input_knob and family.input_knob in knobs)
    ):
        input_shape = preset.input_shape
    declared = family.input_from(values) if family.input_from else None
    if declared is not None:
        if input_shape is not None and tuple(input_shape) != tuple(declared):
            given = "x".join(str(v) for v in input_shape)
            raise KnobError(
                f"The network declares its input as {'x'.join(map(str, declared))} (input_shape= on its first "
                f"layer) but the input given is {shorten(given)}; give one of them only."
            )
        input_shape = declared
    shape = check_input_shape(family.input_for(values, input_shape))
    if family.input_knob and shape[1] == shape[2]:  # the input side and the knob are one value
        try:
            values[family.input_knob] = family.knob(family.input_knob).coerce(shape[1])
        except KnobError:
            pass  # an input outside the knob's range: the input shape wins, the knob stays
    family.resolve(values)  # combination rules raise here, before any model is built
    return Config(family.name, preset.name if preset else None, tuple(values.items()), shape)


MAX_SIDE = 4096
MAX_CHANNELS = 64


def check_input_shape(shape) -> tuple[int, int, int]:
    try:
        c, h, w = (_side(v) for v in shape)
    except (TypeError, ValueError):
        raise KnobError(
            f"The input shape must be three whole numbers C x H x W, e.g. 3x32x32; got {shorten(shape)}."
        ) from None
    if min(c, h, w) < 1:
        raise KnobError(f"Every side of the input must be at least 1; got {c}x{h}x{w}.")
    if max(h, w) > MAX_SIDE or c > MAX_CHANNELS:
        raise LimitError(
            f"An input of {c}x{h}x{w} is larger than the explorer analyses "
            f"(at most {MAX_CHANNELS} channels and {MAX_SIDE} pixels per side); choose a smaller input."
        )
    return (c, h, w)


def _side(v) -> int:
    """One side of an input shape: a whole number (32.0 is 32; 32.7, True and '32' are refused, not truncated)."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ValueError(v)
    if not isinstance(v, numbers.Integral) and not (math.isfinite(v) and float(v).is_integer()):
        raise ValueError(v)
    return int(v)


def parse_input_shape(text: str) -> tuple[int, int, int]:
    """'3x32x32' or '3,32,32' -> (3, 32, 32)."""
    parts = str(text).lower().replace("×", "x").replace(",", "x").split("x")
    if any(not p.strip() for p in parts):  # '3x32xx32': a side left out is refused, not skipped
        raise KnobError(
            f"The input shape must look like 3x32x32 (channels x height x width); got {shorten(str(text))}."
        )
    if len(parts) == 1:
        parts = ["3", parts[0], parts[0]]
    if len(parts) != 3:
        raise KnobError(
            f"The input shape must look like 3x32x32 (channels x height x width); got {shorten(str(text))}."
        )
    try:
        values = tuple(whole(p) for p in parts)
    except ValueError:
        raise KnobError(
            f"The input shape must look like 3x32x32 (channels x height x width); got {shorten(str(text))}."
        ) from None
    return check_input_shape(values)
