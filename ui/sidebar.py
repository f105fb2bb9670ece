"""The shared sidebar: family, preset, every knob and the input size, mirrored in the URL.

Widgets are generated from each family's knob declarations. Every widget key is namespaced by
family ("resnet.depth") and bound to a query parameter of the same name, so a copied link
reproduces the view; values live in st.session_state, so they survive page switches.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from explorer import all_families
from explorer.errors import ExplorerError
from explorer.registry import Family, Knob

CUSTOM = "custom"
IN_C, IN_H, IN_W, IN_SQUARE = "in.c", "in.h", "in.w", "in.square"
MAX_SLIDER_SIDE = 1024


@dataclass
class Selection:
    """What the sidebar selected: pass name, input_shape and knobs to explorer.analyze."""

    family: str
    preset: str | None
    knobs: dict = field(default_factory=dict)
    input_shape: tuple = (3, 32, 32)

    @property
    def name(self) -> str:
        return self.preset or self.family

    @property
    def title(self) -> str:
        fam = all_families()[self.family]
        return fam.presets[self.preset].title if self.preset else fam.title


def widget_value(knob: Knob, value):
    """A knob value as its widget holds it (text for lists of numbers)."""
    if knob.kind == "ints":
        return ",".join(str(v) for v in value) if value is not None else ""
    return value


def _load_preset(family: Family, key: str) -> None:
    """Preset chosen: write its values into the knob widgets (the user can then move them)."""
    name = st.session_state.get(key)
    values = family.defaults()
    if name in family.presets:
        values.update(family.presets[name].knobs)
    for knob in family.knobs:
        st.session_state[f"{family.name}.{knob.name}"] = widget_value(knob, values[knob.name])
    preset = family.presets.get(name)
    if preset is not None and preset.input_shape:
        c, h, w = preset.input_shape
        st.session_state[IN_C], st.session_state[IN_H], st.session_state[IN_W] = c, h, w


def _default_preset(family: Family) -> str:
    defaults = family.defaults()
    for name, preset in family.presets.items():
        if all(defaults.get(k) == v for k, v in preset.knobs.items()):
            return name
    return CUSTOM


def knob_widget(container, family: Family, knob: Knob):
    key = f"{family.name}.{knob.name}"
    if key not in st.session_state:
        st.session_state[key] = widget_value(knob, knob.default)
    label, help_text = knob.title, knob.help + (f" Empty or auto: {knob.auto}." if knob.optional else "")
    common = dict(key=key, help=help_text, bind="query-params")
    if knob.kind == "bool":
        return container.toggle(label, **common)
    if knob.kind == "choice":
        options = ([None] if knob.optional else []) + list(knob.choices)
        return container.selectbox(label, options, format_func=lambda v: f"auto ({knob.auto})" if v is None
                                   else str(v), **common)
    if knob.kind == "ints":
        return container.text_input(label, **common)
    if knob.kind == "float":
        return container.slider(label, float(knob.low), float(knob.high), step=float(knob.step or 0.05), **common)
    if knob.optional or knob.high - knob.low > 400:
        return container.number_input(label, int(knob.low), int(knob.high), step=1,
                                      placeholder=f"auto: {knob.auto}" if knob.optional else None, **common)
    return container.slider(label, int(knob.low), int(knob.high), step=int(knob.step or 1), **common)


def input_widgets(container, family: Family, knobs: dict) -> tuple:
    for key, value in ((IN_C, family.default_input[0]), (IN_H, family.default_input[1]),
                       (IN_W, family.default_input[2]), (IN_SQUARE, True)):
        st.session_state.setdefault(key, value)
    channels = container.number_input("Input channels (C)", 1, 64, step=1, key=IN_C, bind="query-params",
                                      help="3 for RGB images, 1 for grey-scale.")
    if family.input_knob:  # MobileNet: the resolution knob is the input side
        side = knobs.get(family.input_knob) or family.default_input[1]
        container.caption(f"Input {channels}×{side}×{side}, set by '{family.knob(family.input_knob).title}'.")
        return channels, int(side), int(side)
    square = container.toggle("Square input", key=IN_SQUARE, bind="query-params")
    height = container.slider("Input size (height)" if not square else "Input size", 1, MAX_SLIDER_SIDE, key=IN_H,
                              bind="query-params", help="32 for CIFAR-10, 224 for ImageNet.")
    width = height if square else container.slider("Input width", 1, MAX_SLIDER_SIDE, key=IN_W,
                                                   bind="query-params")
    return channels, height, width


def architecture_sidebar() -> Selection:
    """Draw the sidebar and return the selection (also kept in st.session_state['selection'])."""
    families = all_families()
    sb = st.sidebar
    sb.header("Architecture")
    st.session_state.setdefault("family", "vgg")
    family_name = sb.selectbox("Family", list(families), key="family", bind="query-params",
                               format_func=lambda n: families[n].title)
    family = families[family_name]
    preset_key = f"{family.name}.preset"
    st.session_state.setdefault(preset_key, _default_preset(family))
    options = list(family.presets) + [CUSTOM]
    preset = sb.selectbox("Preset", options, key=preset_key, bind="query-params",
                          format_func=lambda n: "custom (knobs below)" if n == CUSTOM else family.presets[n].title,
                          on_change=_load_preset, args=(family, preset_key))
    with sb.expander("Knobs", expanded=True):
        knobs = {knob.name: knob_widget(st, family, knob) for knob in family.knobs}
    with sb.expander("Input", expanded=True):
        shape = input_widgets(st, family, knobs)
    preset = None if preset == CUSTOM else preset
    changed = _changed_from_preset(family, preset, knobs)
    if preset and changed:
        sb.caption(f"Changed from the preset: {', '.join(changed)}.")
    selection = Selection(family.name, preset, knobs, shape)
    st.session_state["selection"] = selection
    return selection


def _changed_from_preset(family: Family, preset: str | None, knobs: dict) -> list[str]:
    if not preset:
        return []
    expected = {**family.defaults(), **family.presets[preset].knobs}
    changed = []
    for knob in family.knobs:
        try:
            if knob.coerce(knobs[knob.name]) != expected[knob.name]:
                changed.append(knob.title)
        except ExplorerError:
            changed.append(knob.title)
    return changed


def current_selection() -> Selection:
    return st.session_state.get("selection") or Selection("vgg", "vgg16")
