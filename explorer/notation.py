"""The custom-architecture language: the VGG paper's notation and a Keras-like form, parsed by hand.

    conv3-64, conv3-64, maxpool          # VGG paper, Table 1: conv<receptive field>-<kernels>, maxpool
    LRN, FC-4096, FC-1000, soft-max      # LRN, FC-<units>, soft-max
    Conv2D(16, (5, 5), strides=1, padding="same", activation="relu")
    MaxPooling2D(2), AveragePooling2D, Flatten, Dense(120), Dropout(0.5), BatchNormalization, ReLU

Layers are separated by commas, semicolons or new lines; '#' starts a comment. No eval, no exec: a small
lexer and a recursive-descent parser, so every mistake is a SpecError naming the line, the column, what
was found and what was expected. Limits (text length, layer count, sizes) are checked while reading, before
any model is built.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from collections import OrderedDict
from dataclasses import dataclass, field

import torch
from torch import nn

from .errors import SpecError
from .layers import SamePad2d
from .registry import MAX_CHANNELS, MAX_SIDE

MAX_CHARS = 100_000
MAX_LAYERS = 1_000  # VGG-19 is 25 layers in this notation; ResNet-1202's convolutions alone would be 1,202
MAX_KERNELS = 16_384
MAX_UNITS = 100_000
MAX_WINDOW = 128  # receptive field, stride, dilation and padding, per side
MAX_MULTIPLIER = 64
MAX_NAME = 40
LRN_ARGS = dict(size=5, alpha=1e-4, beta=0.75, k=2.0)  # Krizhevsky et al.'s values, as explorer/families/vgg.py
ACTIVATIONS = ("relu", "softmax", "sigmoid", "tanh")

# -- layers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    """One layer as written: its kind, its settings and where it stands in the text."""

    kind: str  # conv, dwconv, maxpool, avgpool, globalpool, lrn, flatten, dense, dropout, batchnorm, act
    line: int
    column: int
    text: str  # as typed, for messages
    notation: str = "keras"  # "paper" (VGG Table 1) or "keras"
    name: str | None = None
    filters: int | None = None  # kernels of a conv, units of a dense layer, multiplier of a depthwise conv
    kernel: tuple | None = None
    stride: tuple | None = None
    padding: tuple | str | None = None  # (top/bottom, left/right), "same" or "valid"
    dilation: tuple = (1, 1)
    bias: bool = True
    activation: str | None = None  # applied after a conv or dense layer, or the layer itself for kind "act"
    rate: float | None = None
    pool: str | None = None  # "max" or "avg" for globalpool
    input_shape: tuple | None = None  # Keras's input_shape=(H, W, C) on the first layer, as C x H x W

    def notation_text(self) -> str:
        """The layer in the form it was written, from the parsed values (never the raw text)."""
        k = self.kernel
        if self.notation == "paper":
            return {
                "conv": f"conv{k[0]}-{self.filters}" if k else "",
                "maxpool": "maxpool",
                "lrn": "LRN",
                "dense": f"FC-{self.filters}",
                "act": "soft-max",
            }.get(self.kind, self.kind)
        size = lambda v: str(v[0]) if v[0] == v[1] else f"({v[0]}, {v[1]})"
        pad = lambda p: f'"{p}"' if isinstance(p, str) else size(p)
        args = []
        if self.kind == "conv":
            args = [str(self.filters), size(k)]
        elif self.kind == "dwconv":
            args = [size(k)]
        elif self.kind in ("maxpool", "avgpool"):
            args = [size(k)]
        elif self.kind == "dense":
            args = [str(self.filters)]
        elif self.kind == "dropout":
            args = [f"{self.rate:g}"]
        if self.kind in ("conv", "dwconv", "maxpool", "avgpool"):
            if self.stride != (k if self.kind in ("maxpool", "avgpool") else (1, 1)):
                args.append(f"strides={size(self.stride)}")
            if self.padding not in ("valid", (0, 0)):
                args.append(f"padding={pad(self.padding)}")
        if self.kind == "dwconv" and self.filters != 1:
            args.append(f"depth_multiplier={self.filters}")
        if self.dilation != (1, 1):
            args.append(f"dilation_rate={size(self.dilation)}")
        if self.kind in ("conv", "dwconv", "dense") and not self.bias:
            args.append("use_bias=False")
        if self.kind in ("conv", "dwconv", "dense") and self.activation:
            args.append(f'activation="{self.activation}"')
        title = {
            "conv": "Conv2D",
            "dwconv": "DepthwiseConv2D",
            "maxpool": "MaxPooling2D",
            "avgpool": "AveragePooling2D",
            "lrn": "LRN",
            "flatten": "Flatten",
            "dense": "Dense",
            "dropout": "Dropout",
            "batchnorm": "BatchNormalization",
            "globalpool": "GlobalMaxPooling2D" if self.pool == "max" else "GlobalAveragePooling2D",
            "act": {"relu": "ReLU", "softmax": "Softmax"}.get(self.activation or "", "Activation"),
        }[self.kind]
        if title == "Activation":
            args = [f'"{self.activation}"']
        return f"{title}({', '.join(args)})"


# -- the lexer ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # name, number, string, op, newline, end
    text: str
    line: int
    column: int

    def shown(self) -> str:
        if self.kind == "end":
            return "the end of the text"
        if self.kind == "newline":
            return "the end of the line"
        return f"'{self.text if len(self.text) <= 30 else self.text[:27] + '...'}'"


OPS = "(),=-[];."


def tokenize(text: str) -> list[Token]:
    tokens, line, start, i, n = [], 1, 0, 0, len(text)
    while i < n:
        ch, col = text[i], i - start + 1
        if ch == "\n":
            tokens.append(Token("newline", "\n", line, col))
            line, start, i = line + 1, i + 1, i + 1
        elif ch == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif ch.isspace():
            i += 1
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            j = i
            while j < n and text[j].isascii() and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(Token("name", text[i:j], line, col))
            i = j
        elif ch.isascii() and ch.isdigit():
            j = i
            while j < n and text[j].isascii() and text[j].isdigit():
                j += 1
            if j + 1 < n and text[j] == "." and text[j + 1].isascii() and text[j + 1].isdigit():
                j += 1
                while j < n and text[j].isascii() and text[j].isdigit():
                    j += 1
            tokens.append(Token("number", text[i:j], line, col))
            i = j
        elif ch in "\"'":
            j = text.find(ch, i + 1)
            newline = text.find("\n", i + 1)
            if j < 0 or (0 <= newline < j):
                raise SpecError(
                    f"this {ch} opens a string that is never closed: add a closing {ch} on the same line",
                    line,
                    col,
                    ch,
                    ch,
                )
            tokens.append(Token("string", text[i + 1 : j], line, col))
            i = j + 1
        elif ch in OPS:
            tokens.append(Token("op", ch, line, col))
            i += 1
        else:
            shown = ch if ch.isprintable() else repr(ch)
            raise SpecError(
                f"unexpected character '{shown}': write layers such as conv3-64, maxpool, FC-4096 or Conv2D(16, 5)",
                line,
                col,
                shown,
                "a layer",
            )
    tokens.append(Token("end", "", line, n - start + 1))
    return tokens


# -- the Keras-like layers: positional order as in Keras, defaults, and what each argument accepts -----


def _keras(title, kind, positional, defaults, **fixed):
    return {
        "title": title,
        "kind": kind,
        "positional": positional,
        "defaults": {"name": None, "input_shape": None, **defaults},
        "fixed": fixed,
    }


_CONV = {"strides": 1, "padding": "valid", "activation": None, "use_bias": True, "dilation_rate": 1}
_POOL = {"pool_size": 2, "strides": None, "padding": "valid"}
KERAS = {
    key.lower(): spec
    for key, spec in {
        "Conv2D": _keras(
            "Conv2D",
            "conv",
            ("filters", "kernel_size", "strides", "padding"),
            {"filters": None, "kernel_size": None, **_CONV},
        ),
        "DepthwiseConv2D": _keras(
            "DepthwiseConv2D",
            "dwconv",
            ("kernel_size", "strides", "padding", "depth_multiplier"),
            {"kernel_size": None, "depth_multiplier": 1, **_CONV},
        ),
        "MaxPooling2D": _keras("MaxPooling2D", "maxpool", ("pool_size", "strides", "padding"), _POOL),
        "MaxPool2D": _keras("MaxPool2D", "maxpool", ("pool_size", "strides", "padding"), _POOL),
        "AveragePooling2D": _keras("AveragePooling2D", "avgpool", ("pool_size", "strides", "padding"), _POOL),
        "AvgPool2D": _keras("AvgPool2D", "avgpool", ("pool_size", "strides", "padding"), _POOL),
        "GlobalAveragePooling2D": _keras("GlobalAveragePooling2D", "globalpool", (), {}, pool="avg"),
        "GlobalAvgPool2D": _keras("GlobalAvgPool2D", "globalpool", (), {}, pool="avg"),
        "GlobalMaxPooling2D": _keras("GlobalMaxPooling2D", "globalpool", (), {}, pool="max"),
        "GlobalMaxPool2D": _keras("GlobalMaxPool2D", "globalpool", (), {}, pool="max"),
        "Flatten": _keras("Flatten", "flatten", (), {}),
        "Dense": _keras(
            "Dense", "dense", ("units", "activation"), {"units": None, "activation": None, "use_bias": True}
        ),
        "Dropout": _keras("Dropout", "dropout", ("rate",), {"rate": None}),
        "BatchNormalization": _keras("BatchNormalization", "batchnorm", (), {}),
        "ReLU": _keras("ReLU", "act", (), {}, activation="relu"),
        "Softmax": _keras("Softmax", "act", (), {}, activation="softmax"),
        "Activation": _keras("Activation", "act", ("activation",), {"activation": None}),
    }.items()
}
PAPER_WORDS = ("conv3-64", "maxpool", "LRN", "FC-4096", "soft-max")
KERAS_WORDS = (
    "Conv2D(16, 5)",
    "MaxPooling2D(2)",
    "AveragePooling2D",
    "Flatten",
    "Dense(120)",
    "Dropout(0.5)",
    "BatchNormalization",
    "ReLU",
)
EXPECTED_LAYER = f"a layer: {', '.join(PAPER_WORDS)}, or {', '.join(KERAS_WORDS)}"


class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.i = 0
        self.in_add = False

    # -- token helpers -------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def is_op(self, ch: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == ch

    def fail(self, expected: str, token: Token | None = None, after: str = ""):
        token = token or self.tok
        where = f" after '{after}'" if after else ""
        raise SpecError(
            f"expected {expected}{where}, found {token.shown()}", token.line, token.column, token.text, expected
        )

    def skip_newlines(self):
        while self.tok.kind == "newline":
            self.i += 1

    # -- the whole text --------------------------------------------------------------------------
    def parse(self) -> list[Layer]:
        layers: list[Layer] = []
        while True:
            while self.tok.kind == "newline" or (self.tok.kind == "op" and self.tok.text in ",;"):
                self.i += 1
            if self.tok.kind == "end":
                return layers
            if len(layers) >= MAX_LAYERS:
                raise SpecError(
                    f"more than {MAX_LAYERS:,} layers: the builder takes at most {MAX_LAYERS:,}; shorten the network",
                    self.tok.line,
                    self.tok.column,
                    self.tok.text,
                    f"at most {MAX_LAYERS:,} layers",
                )
            layers.append(self.item())
            if not (self.tok.kind in ("newline", "end") or (self.tok.kind == "op" and self.tok.text in ",;")):
                last = layers[-1]
                shown = last.text + ("(...)" if self.tokens[self.i - 1].text == ")" else "")
                self.fail("a comma or a new line between layers", after=shown)

    def item(self) -> Layer:
        head = self.tok
        if head.kind != "name":
            hint = ""
            if head.kind == "number":
                hint = " (a number alone is not a layer; a layer of 64 kernels 3x3 is conv3-64)"
            self.fail(EXPECTED_LAYER + hint)
        if self.tokens[self.i + 1].text == ".":  # Keras code pasted as it is: model.add(layers.Conv2D(...))
            return self.qualified()
        word = head.text.lower()
        if word in KERAS:
            return self.keras(KERAS[word])
        if word.startswith("conv"):
            return self.paper_conv()
        if word in ("maxpool", "lrn"):
            self.take()
            return Layer(
                "maxpool" if word == "maxpool" else "lrn",
                head.line,
                head.column,
                head.text,
                "paper",
                kernel=(2, 2) if word == "maxpool" else None,
                stride=(2, 2) if word == "maxpool" else None,
                padding=(0, 0) if word == "maxpool" else None,
            )
        if word == "fc":
            return self.paper_fc()
        if word == "soft":
            self.take()
            if not self.is_op("-") or self.tokens[self.i + 1].text.lower() != "max":
                self.fail("'-max' (soft-max)", after="soft")
            self.i += 2
            return Layer("act", head.line, head.column, "soft-max", "paper", activation="softmax")
        if word == "input":
            raise SpecError(
                "the input is not a layer: set its size (C x H x W) in the sidebar's 'Input' section",
                head.line,
                head.column,
                head.text,
                "a layer",
            )
        close = difflib.get_close_matches(word, list(KERAS) + ["maxpool", "lrn", "fc", "softmax"], n=1, cutoff=0.7)
        suggestion = ""
        if close:
            suggestion = (
                KERAS[close[0]]["title"]
                if close[0] in KERAS
                else {"maxpool": "maxpool", "lrn": "LRN", "fc": "FC-4096", "softmax": "soft-max"}[close[0]]
            )
        self.fail(EXPECTED_LAYER + (f" (did you mean {suggestion}?)" if suggestion else ""))

    def qualified(self) -> Layer:
        """model.add(...) around a layer, and module prefixes (layers., keras.layers., tf.keras.layers., nn.)."""
        start = self.i
        path = [self.take().text]
        while self.is_op(".") and self.tokens[self.i + 1].kind == "name":
            self.take()
            path.append(self.take().text)
        dotted = ".".join(path)
        if dotted.lower() == "model.add" and self.is_op("("):
            if self.in_add:  # one level only: nesting would also let a long text exhaust the recursion
                first = self.tokens[start]
                raise SpecError(
                    "model.add( inside model.add( adds nothing: write the layer once",
                    first.line,
                    first.column,
                    dotted,
                    "a layer",
                )
            self.take()
            self.in_add = True
            self.skip_newlines()
            layer = self.item()
            self.skip_newlines()
            if not self.is_op(")"):
                self.fail("')' closing model.add(", after=layer.text)
            self.take()
            self.in_add = False
            return layer
        if all(part.lower() in ("tf", "keras", "layers", "nn") for part in path[:-1]) and path[-1].lower() in KERAS:
            self.i -= 1  # parse from the layer's own name
            return self.item()
        first = self.tokens[start]
        raise SpecError(
            f"expected {EXPECTED_LAYER}, found '{dotted[:40]}'", first.line, first.column, dotted, EXPECTED_LAYER
        )

    # -- the paper's notation ------------------------------------------------------------------------
    def paper_conv(self) -> Layer:
        head = self.take()
        if head.text.lower() == "conv":
            self.fail("the receptive field size right after 'conv', as in conv3-64", self.tok)
        field = self.whole(head.text[4:], head, "receptive field", 1, MAX_WINDOW, column=head.column + 4)
        number, kernels = self.dash_count(head, "number of kernels", f"conv{field}-64", MAX_KERNELS)
        # VGG paper, Section 2.1: stride 1, padding that preserves the resolution, ReLU after every conv
        return Layer(
            "conv",
            head.line,
            head.column,
            f"{head.text}-{number.text}",
            "paper",
            filters=kernels,
            kernel=(field, field),
            stride=(1, 1),
            padding="same",
            activation="relu",
        )

    def paper_fc(self) -> Layer:
        head = self.take()
        number, units = self.dash_count(head, "number of units", "FC-4096", MAX_UNITS)
        return Layer(
            "dense", head.line, head.column, f"{head.text}-{number.text}", "paper", filters=units, activation="relu"
        )  # the last weight layer loses its ReLU in _check (Section 2.1)

    def dash_count(self, head, what: str, example: str, limit: int):
        """The '-64' after conv3 or FC: (the number's token, its value from 1 to limit)."""
        if not self.is_op("-"):
            self.fail(f"'-' and a {what}, as in {example}", after=head.text)
        self.take()
        number = self.tok
        if number.kind != "number":
            self.fail(f"a {what}", after=f"{head.text}-")
        self.take()
        return number, self.whole(number.text, number, what, 1, limit)

    def whole(self, text, token, what, low, high, column=None) -> int:
        column = column or token.column
        if not text.isdigit():
            raise SpecError(
                f"expected a whole number for the {what}, found '{text}'", token.line, column, text, "a whole number"
            )
        if len(text) > 9 or not low <= int(text) <= high:
            raise SpecError(
                f"the {what} must be between {low:,} and {high:,}, found {text[:12]}{'...' if len(text) > 12 else ''}",
                token.line,
                column,
                text,
                f"{low} to {high}",
            )
        return int(text)

    # -- the Keras-like form ------------------------------------------------------------------------
    def keras(self, spec: dict) -> Layer:
        head = self.take()
        args: dict[str, tuple] = {}
        if self.is_op("("):
            opening = self.take()
            positional = True
            count = 0
            while True:
                self.skip_newlines()
                if self.is_op(")"):
                    self.take()
                    break
                if self.tok.kind == "end":
                    raise SpecError(
                        f"'{spec['title']}(' at line {opening.line}, column {opening.column} is never "
                        f"closed: expected ')'",
                        self.tok.line,
                        self.tok.column,
                        "",
                        "')'",
                    )
                start = self.tok
                if start.kind == "name" and self.tokens[self.i + 1].text == "=":
                    positional = False
                    key = start.text
                    if key not in spec["defaults"]:
                        close = difflib.get_close_matches(key, list(spec["defaults"]), n=1)
                        hint = f"; did you mean '{close[0]}'?" if close else f"; it takes {', '.join(spec['defaults'])}"
                        raise SpecError(
                            f"{spec['title']} takes no argument '{key}'{hint}",
                            start.line,
                            start.column,
                            key,
                            "an argument name",
                        )
                    self.i += 2
                    self.skip_newlines()
                else:
                    if not positional:
                        self.fail("a keyword argument (name=value) after keyword arguments", start)
                    if count >= len(spec["positional"]):
                        takes = ", ".join(spec["positional"]) or "no positional arguments"
                        raise SpecError(
                            f"{spec['title']} takes {len(spec['positional'])} positional argument(s) "
                            f"({takes}); this one is too many",
                            start.line,
                            start.column,
                            start.text,
                            "')'",
                        )
                    key = spec["positional"][count]
                    count += 1
                if key in args:
                    raise SpecError(
                        f"{spec['title']}'s {key} is given twice", start.line, start.column, key, "each argument once"
                    )
                args[key] = (self.value(), start)
                self.skip_newlines()
                if self.is_op(","):
                    self.take()
                elif not self.is_op(")"):
                    self.fail(f"',' or ')' in {spec['title']}(...)")
        return _keras_layer(spec, head, args)

    def value(self, depth=0):
        token = self.tok
        if token.kind == "number":
            self.take()
            return float(token.text) if "." in token.text else _int(token)
        if self.is_op("-") and self.tokens[self.i + 1].kind == "number":
            self.take()
            number = self.take()
            return -(float(number.text) if "." in number.text else _int(number))
        if token.kind == "string":
            self.take()
            return token.text
        if token.kind == "name" and token.text in ("None", "True", "False"):
            self.take()
            return {"None": None, "True": True, "False": False}[token.text]
        if token.kind == "name":
            self.fail(f'a value; text goes in quotes, as in "{token.text}"')
        if (self.is_op("(") or self.is_op("[")) and depth == 0:
            close = ")" if self.take().text == "(" else "]"
            items = []
            while True:
                self.skip_newlines()
                if self.is_op(close):
                    self.take()
                    return tuple(items)
                if len(items) >= 4:
                    self.fail(f"'{close}': a size is one or two numbers, as in (5, 5)")
                items.append(self.value(depth + 1))
                self.skip_newlines()
                if self.is_op(","):
                    self.take()
                elif not self.is_op(close):
                    self.fail(f"',' or '{close}'")
        self.fail("a value: a number, a pair such as (5, 5), text in quotes, True, False or None")


def _int(token: Token) -> int:
    if len(token.text) > 12:  # Python refuses to read ints of over 4,300 digits; nothing here needs 13
        raise SpecError(
            f"{token.text[:12]}... is far too large a number",
            token.line,
            token.column,
            token.text,
            "a number of at most 12 digits",
        )
    return int(token.text)


# -- checking the Keras arguments --------------------------------------------------------------------


def _keras_layer(spec: dict, head: Token, args: dict) -> Layer:
    title = spec["title"]
    values = {k: v for k, v in spec["defaults"].items()}
    where = {k: token for k, (_, token) in args.items()}
    values.update({k: v for k, (v, _) in args.items()})

    def bad(key, message):
        token = where.get(key, head)
        raise SpecError(f"{title}'s {key} {message}", token.line, token.column, token.text, message)

    def size(key, low=1, high=MAX_WINDOW, allow_none=False):
        v = values[key]
        if v is None and allow_none:
            return None
        pair = v if isinstance(v, tuple) else (v, v)
        if len(pair) != 2 or not all(isinstance(x, int) and not isinstance(x, bool) for x in pair):
            bad(key, f"must be a whole number or a pair such as (3, 3), found {_shown(v)}")
        if not all(low <= x <= high for x in pair):
            bad(key, f"must be between {low} and {high}, found {_shown(v)}")
        return pair

    def needed(key, example):
        if values.get(key) is None:
            raise SpecError(f"{title} needs its {key}, as in {example}", head.line, head.column, head.text, key)

    kind = spec["kind"]
    fields = dict(spec["fixed"])
    if kind in ("conv", "dwconv"):
        if kind == "conv":
            needed("filters", "Conv2D(16, 5)")
            v = values["filters"]
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= MAX_KERNELS:
                bad("filters", f"must be a whole number between 1 and {MAX_KERNELS:,}, found {_shown(v)}")
            fields["filters"] = v
        else:
            v = values["depth_multiplier"]
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= MAX_MULTIPLIER:
                bad("depth_multiplier", f"must be a whole number between 1 and {MAX_MULTIPLIER}, found {_shown(v)}")
            fields["filters"] = v
        needed("kernel_size", f"{title}({'16, ' if kind == 'conv' else ''}5)")
        fields.update(
            kernel=size("kernel_size"),
            stride=size("strides"),
            dilation=size("dilation_rate"),
            padding=_padding(values, bad, size),
        )
        fields["bias"] = _flag(values["use_bias"], "use_bias", bad)
        fields["activation"] = _activation(values["activation"], bad)
        if fields["padding"] == "same" and fields["dilation"] != (1, 1) and fields["stride"] != (1, 1):
            bad("dilation_rate", "cannot be combined with strides above 1 (Keras refuses it too)")
    elif kind in ("maxpool", "avgpool"):
        kernel = size("pool_size")
        stride = size("strides", allow_none=True) or kernel  # Keras: strides default to the pool size
        padding = _padding(values, bad, size)
        if padding == "same" and kind == "avgpool":
            bad(
                "padding",
                "'same' has no PyTorch equivalent for average pooling (Keras leaves the padded zeros "
                "out of each mean); use 'valid' or a number",
            )
        if isinstance(padding, tuple) and any(p > k // 2 for p, k in zip(padding, kernel)):
            bad("padding", f"must be at most half the pool size (PyTorch's rule), found {_shown(values['padding'])}")
        fields.update(kernel=kernel, stride=stride, padding=padding)
    elif kind == "dense":
        needed("units", "Dense(120)")
        v = values["units"]
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= MAX_UNITS:
            bad("units", f"must be a whole number between 1 and {MAX_UNITS:,}, found {_shown(v)}")
        fields.update(
            filters=v,
            bias=_flag(values["use_bias"], "use_bias", bad),
            activation=_activation(values["activation"], bad),
        )
    elif kind == "dropout":
        needed("rate", "Dropout(0.5)")
        v = values["rate"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1:
            bad("rate", f"must be a number from 0 up to (not including) 1, found {_shown(v)}")
        fields["rate"] = float(v)
    elif kind == "act" and "activation" not in spec["fixed"]:
        needed("activation", 'Activation("relu")')
        fields["activation"] = _activation(values["activation"], bad)
        if fields["activation"] is None:
            bad("activation", "'linear' does nothing: leave the layer out")
    fields["name"] = _name(values["name"], bad)
    fields["input_shape"] = _input_shape(values["input_shape"], bad)
    return Layer(kind, head.line, head.column, head.text, "keras", **fields)


def _shown(v) -> str:
    if isinstance(v, str):
        return f"'{v[:30]}'"
    text = repr(v)
    return text if len(text) <= 30 else text[:27] + "..."


def _padding(values, bad, size):
    v = values["padding"]
    if isinstance(v, str):
        if v.lower() not in ("same", "valid"):
            bad("padding", f"must be 'same', 'valid' or a number of pixels, found {_shown(v)}")
        return "valid" if v.lower() == "valid" else "same"
    return size("padding", low=0)


def _flag(v, key, bad):
    if not isinstance(v, bool):
        bad(key, f"must be True or False, found {_shown(v)}")
    return v


def _activation(v, bad):
    if v is None or (isinstance(v, str) and v.lower() == "linear"):
        return None
    if not isinstance(v, str) or v.lower() not in ACTIVATIONS:
        bad("activation", f"must be one of {', '.join(ACTIVATIONS)} or None, found {_shown(v)}")
    return v.lower()


# attributes every nn.Module has (forward, training, cuda, _modules...): PyTorch refuses them as layer names
_MODULE_ATTRIBUTES = frozenset(dir(nn.Sequential()))


def _input_shape(v, bad):
    """Keras's input_shape=(height, width, channels) -> (C, H, W), within the explorer's input limits."""
    if v is None:
        return None
    if not isinstance(v, tuple) or len(v) != 3 or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        bad(
            "input_shape",
            "must be three whole numbers (height, width, channels) as Keras writes it, e.g. (32, 32, 3), "
            f"found {_shown(v)}",
        )
    h, w, c = v
    if min(v) < 1 or max(h, w) > MAX_SIDE or c > MAX_CHANNELS:
        bad(
            "input_shape",
            f"must have sides from 1 to {MAX_SIDE} and 1 to {MAX_CHANNELS} channels, found {_shown(v)}",
        )
    return (c, h, w)


def _name(v, bad):
    if v is None:
        return None
    if not isinstance(v, str) or not v:
        bad("name", f"must be text in quotes, found {_shown(v)}")
    if len(v) > MAX_NAME:
        bad("name", f"can be at most {MAX_NAME} characters, found {len(v)}")
    if "." in v:
        bad("name", "cannot contain '.', which PyTorch uses between nested layer names")
    if not v.isprintable():
        bad("name", "cannot contain control characters")
    if v in _MODULE_ATTRIBUTES:
        bad("name", f"'{v}' is taken by PyTorch (every nn.Module has an attribute of that name): choose another name")
    return v


# -- the whole network --------------------------------------------------------------------------


def _check(layers: list[Layer]) -> tuple[Layer, ...]:
    """Rules that need the order of the layers: maps before vectors, names used once, the paper's last ReLU."""
    if not layers:
        raise SpecError(
            "the architecture is empty: write at least one layer, e.g. conv3-64, maxpool, FC-10", 1, 1, "", "a layer"
        )
    names: dict[str, Layer] = {}
    flat_since: Layer | None = None
    for layer in layers[1:]:
        if layer.input_shape is not None:
            raise SpecError(
                "input_shape= sets the network's input and belongs on the first layer only (as in Keras); "
                "move it there",
                layer.line,
                layer.column,
                layer.text,
                "input_shape on the first layer",
            )
    for layer in layers:
        if layer.name is not None:
            if layer.name in names:
                first = names[layer.name]
                raise SpecError(
                    f"the name '{layer.name}' is already used by the layer at line {first.line}, "
                    f"column {first.column}: give each layer its own name",
                    layer.line,
                    layer.column,
                    layer.name,
                    "a new name",
                )
            names[layer.name] = layer
        if layer.kind in ("conv", "dwconv", "maxpool", "avgpool", "lrn", "globalpool") and flat_since is not None:
            raise SpecError(
                f"{layer.text} needs a C x H x W input, but after {flat_since.text} (line "
                f"{flat_since.line}) the data is a vector: put convolutions and pooling before it",
                layer.line,
                layer.column,
                layer.text,
                "a layer that takes a vector",
            )
        if layer.kind == "dense" and layer.notation == "keras" and flat_since is None:
            raise SpecError(
                "Dense needs a vector: add Flatten before it (Keras would apply Dense to the channels "
                "of every pixel; the paper's FC-4096 flattens by itself)",
                layer.line,
                layer.column,
                layer.text,
                "Flatten before Dense",
            )
        if layer.kind in ("flatten", "globalpool", "dense"):
            flat_since = flat_since or layer
    weights = [i for i, layer in enumerate(layers) if layer.kind in ("conv", "dwconv", "dense")]
    if weights and layers[weights[-1]].notation == "paper" and layers[weights[-1]].kind == "dense":
        # VGG paper, Section 2.1: "All hidden weight layers are equipped with the rectification (ReLU)"
        layers[weights[-1]] = dataclasses.replace(layers[weights[-1]], activation=None)
    return tuple(layers)


@functools.lru_cache(maxsize=256)
def parse(text: str) -> tuple[Layer, ...]:
    """The layers of a custom architecture, or SpecError naming the line and column of the first mistake."""
    if not isinstance(text, str):
        raise SpecError(f"the architecture must be text, got {type(text).__name__}", 1, 1)
    if len(text) > MAX_CHARS:
        line = text.count("\n", 0, MAX_CHARS) + 1
        column = MAX_CHARS - (text.rfind("\n", 0, MAX_CHARS) + 1) + 1
        raise SpecError(
            f"the text is longer than {MAX_CHARS:,} characters, the most the builder reads; shorten it",
            line,
            column,
            "",
            f"at most {MAX_CHARS:,} characters",
        )
    return _check(_Parser(text).parse())


# -- building the PyTorch layers ------------------------------------------------------------------


@dataclass
class Built:
    """The modules of a parsed architecture, in order, with the layer each one comes from."""

    modules: OrderedDict = field(default_factory=OrderedDict)
    origin: dict = field(default_factory=dict)  # module name -> Layer


def build_modules(layers: tuple[Layer, ...], in_channels: int = 3) -> Built:
    """nn modules for the layers: a Conv2D with activation="relu" is two modules, conv1 and relu1."""
    built = Built()
    taken = {layer.name for layer in layers if layer.name}
    counters: dict[str, int] = {}

    def add(prefix, module, layer, own_name=None):
        if own_name is None:
            while True:
                counters[prefix] = counters.get(prefix, 0) + 1
                own_name = f"{prefix}{counters[prefix]}"
                if own_name not in taken:
                    break
        built.modules[own_name] = module
        built.origin[own_name] = layer

    channels: int | None = in_channels  # None once flattened: the first dense layer then infers its input
    features: int | None = None  # size of a vector when known
    for layer in layers:
        k = layer.kind
        if k in ("conv", "dwconv"):
            out = layer.filters if k == "conv" else channels * layer.filters
            padding = layer.padding
            if padding == "valid":
                padding = 0
            elif padding == "same":
                odd = all(d * (f - 1) % 2 == 0 for d, f in zip(layer.dilation, layer.kernel))
                if layer.stride != (1, 1):
                    add("pad", SamePad2d(layer.kernel, layer.stride, layer.dilation), layer)
                    padding = 0
                elif odd:  # symmetric: the plain number reads better than 'same' and is the same layer
                    padding = tuple(d * (f - 1) // 2 for d, f in zip(layer.dilation, layer.kernel))
            conv = nn.Conv2d(
                channels,
                out,
                _one(layer.kernel),
                _one(layer.stride),
                _one(padding),
                _one(layer.dilation),
                groups=channels if k == "dwconv" else 1,
                bias=layer.bias,
            )
            add("conv" if k == "conv" else "dwconv", conv, layer, layer.name)
            channels = out
        elif k in ("maxpool", "avgpool"):
            padding = layer.padding
            if padding == "same":
                add("pad", SamePad2d(layer.kernel, layer.stride, value=float("-inf")), layer)
                padding = 0
            elif padding == "valid":
                padding = 0
            cls = nn.MaxPool2d if k == "maxpool" else nn.AvgPool2d
            add("pool", cls(_one(layer.kernel), _one(layer.stride), _one(padding)), layer, layer.name)
        elif k == "globalpool":
            cls = nn.AdaptiveMaxPool2d if layer.pool == "max" else nn.AdaptiveAvgPool2d
            add("pool", cls(1), layer, layer.name)
            add("flatten", nn.Flatten(), layer)
            features = channels
            channels = None
        elif k == "lrn":
            add("lrn", nn.LocalResponseNorm(**LRN_ARGS), layer, layer.name)
        elif k == "flatten":
            add("flatten", nn.Flatten(), layer, layer.name)
            if channels is not None:
                features = None  # C x H x W: known only once the input size is
            channels = None
        elif k == "dense":
            if channels is not None:  # the paper's FC after a map: flatten first
                add("flatten", nn.Flatten(), layer)
                channels = None
                features = None
            linear = (
                nn.Linear(features, layer.filters, bias=layer.bias)
                if features
                else nn.LazyLinear(layer.filters, bias=layer.bias)
            )
            add("fc", linear, layer, layer.name)
            features = layer.filters
        elif k == "dropout":
            add("drop", nn.Dropout(layer.rate), layer, layer.name)
        elif k == "batchnorm":
            norm = (
                nn.BatchNorm2d(channels)
                if channels is not None
                else nn.BatchNorm1d(features)
                if features
                else nn.LazyBatchNorm1d()
            )
            add("bn", norm, layer, layer.name)
        elif k == "act":
            add(layer.activation, _activation_module(layer.activation), layer, layer.name)
            continue
        if k in ("conv", "dwconv", "dense") and layer.activation:
            add(layer.activation, _activation_module(layer.activation), layer)
    return built


def _one(v):
    """(3, 3) -> 3: the short form PyTorch prints and students write."""
    return v[0] if isinstance(v, tuple) and len(v) == 2 and v[0] == v[1] else v


def _activation_module(name: str):
    return {
        "relu": lambda: nn.ReLU(inplace=True),
        "softmax": lambda: nn.Softmax(dim=1),
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
    }[name]()


def declared_input(text: str) -> tuple | None:
    """The input the text declares with Keras's input_shape= on its first layer (C, H, W), or None."""
    layers = parse(text)
    return layers[0].input_shape


def build(text: str, in_channels: int = 3):
    """The nn.Sequential of a custom architecture (module names conv1, relu1, pool1, fc1... or the given names)."""
    return nn.Sequential(build_modules(parse(text), in_channels).modules)


def origins(text: str, in_channels: int = 3) -> dict:
    """Module name -> the Layer it comes from (its line and column in the text); modules built on the meta device."""
    with torch.device("meta"):
        return build_modules(parse(text), in_channels).origin
