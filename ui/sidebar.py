"""The shared sidebar: family, preset, every knob and the input size, mirrored in the URL.

Widgets are generated from each family's knob declarations; widget keys are namespaced by family
("resnet.depth") and the values live in st.session_state, so they survive page switches. The URL
mirrors the choice with plain names (?family=resnet&preset=resnet56&depth=56&input=3x32x32), so a
copied link reproduces the view. (Streamlit's bind="query-params" writes a selectbox's label, not its
value, into the URL: "VGG-16 (config D)" instead of "vgg16"; hence this module does it.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from explorer import all_families
from explorer.errors import ExplorerError
from explorer.registry import Family, Knob, parse_input_shape

CUSTOM = "custom"
IN_C, IN_H, IN_W, IN_SQUARE = "in.c", "in.h", "in.w", "in.square"
MAX_SLIDER_SIDE = 512  # the URL and the CLI accept up to explorer.registry.MAX_SIDE


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
    common = dict(key=key, help=help_text)
    if knob.kind == "bool":
        return container.toggle(label, **common)
    if knob.kind == "choice":
        options = ([None] if knob.optional else []) + list(knob.choices)
        return container.selectbox(
            label, options, format_func=lambda v: f"auto ({knob.auto})" if v is None else str(v), **common
        )
    if knob.kind == "ints":
        return container.text_input(label, **common)
    if knob.kind == "text":  # a custom network's layers: the Custom builder page has the roomy version
        return container.text_area(label, height=220, **common)
    if knob.kind == "float":
        step = float(knob.step or 0.05)
        decimals = max(2, len(f"{step:g}".partition(".")[2]))  # SqueezeNet's SR 0.125 must not show as 0.13
        return container.slider(label, float(knob.low), float(knob.high), step=step, format=f"%.{decimals}f", **common)
    if knob.optional or knob.high - knob.low > 400:
        return container.number_input(
            label,
            int(knob.low),
            int(knob.high),
            step=1,
            placeholder=f"auto: {knob.auto}" if knob.optional else None,
            **common,
        )
    return container.slider(label, int(knob.low), int(knob.high), step=int(knob.step or 1), **common)


def input_widgets(container, family: Family, knobs: dict) -> tuple:
    for key, value in (
        (IN_C, family.default_input[0]),
        (IN_H, family.default_input[1]),
        (IN_W, family.default_input[2]),
        (IN_SQUARE, True),
    ):
        st.session_state.setdefault(key, value)
    channels = container.number_input(
        "Input channels (C)", 1, 64, step=1, key=IN_C, help="3 for RGB images, 1 for grey-scale."
    )
    if family.input_knob:  # MobileNet: the resolution knob is the input side
        side = knobs.get(family.input_knob) or family.default_input[1]
        container.caption(f"Input {channels}×{side}×{side}, set by '{family.knob(family.input_knob).title}'.")
        return channels, int(side), int(side)
    square = container.toggle("Square input", key=IN_SQUARE)
    height = container.slider(
        "Input size (height)" if not square else "Input size",
        1,
        MAX_SLIDER_SIDE,
        key=IN_H,
        help="32 for CIFAR-10, 224 for ImageNet.",
    )
    width = height if square else container.slider("Input width", 1, MAX_SLIDER_SIDE, key=IN_W)
    return channels, height, width


def architecture_sidebar(expanded: bool = True) -> Selection:
    """Draw the sidebar and return the selection (also kept in st.session_state['selection']).

    expanded=False folds the knobs and input on pages that do not use the architecture."""
    families = all_families()
    sb = st.sidebar
    sb.header("Architecture")
    restore_from_url(families)
    family_name = sb.selectbox("Family", list(families), key="family", format_func=lambda n: families[n].title)
    family = families[family_name]
    preset_key = f"{family.name}.preset"
    st.session_state.setdefault(preset_key, _default_preset(family))
    options = list(family.presets) + [CUSTOM]
    preset = sb.selectbox(
        "Preset",
        options,
        key=preset_key,
        format_func=lambda n: "custom (knobs below)" if n == CUSTOM else family.presets[n].title,
        on_change=_load_preset,
        args=(family, preset_key),
    )
    if not expanded:
        sb.caption("This page does not use the architecture below; Explore, Compare and the labs do.")
    with sb.expander("Knobs", expanded=expanded):
        knobs = {knob.name: knob_widget(st, family, knob) for knob in family.knobs}
    with sb.expander("Input", expanded=expanded):
        shape = input_widgets(st, family, knobs)
    preset = None if preset == CUSTOM else preset
    changed = _changed_from_preset(family, preset, knobs)
    if preset and changed:
        sb.caption(f"Changed from the preset: {', '.join(changed)}.")
    selection = Selection(family.name, preset, knobs, shape)
    st.session_state["selection"] = selection
    mirror_in_url(family, selection)
    return selection


URL_KEYS = ("family", "preset", "input")


def restore_from_url(families: dict) -> None:
    """On a session's first run, take family, preset, knobs and input from the link."""
    if st.session_state.get("url.restored"):
        return
    st.session_state["url.restored"] = True
    q = st.query_params
    name = q.get("family")
    if name not in families:
        name = next((p.family for p in _presets(families) if p.name == q.get("preset")), "vgg")
    family = families[name]
    st.session_state["family"] = name
    preset = q.get("preset")
    if preset in family.presets:
        st.session_state[f"{name}.preset"] = preset
        _load_preset(family, f"{name}.preset")
    elif "preset" in q or any(k.name in q for k in family.knobs):
        st.session_state[f"{name}.preset"] = CUSTOM
    for knob in family.knobs:
        if knob.name in q:
            try:
                st.session_state[f"{name}.{knob.name}"] = widget_value(knob, knob.coerce(q[knob.name]))
            except ExplorerError:
                st.session_state[f"{name}.{knob.name}"] = (
                    q[knob.name] if knob.kind == "ints" else widget_value(knob, knob.default)
                )
    if "input" in q:
        try:
            c, h, w = parse_input_shape(q["input"])
        except ExplorerError:
            return
        st.session_state.update({IN_C: c, IN_H: h, IN_W: w, IN_SQUARE: h == w})


def _presets(families):
    return [p for f in families.values() for p in f.presets.values()]


def mirror_in_url(family: Family, selection: Selection) -> None:
    """Write the selection into the URL: family, preset, the knobs that differ from it, and the input."""
    wanted = {"family": family.name}
    base = family.defaults()
    if selection.preset:
        wanted["preset"] = selection.preset
        base.update(family.presets[selection.preset].knobs)
    for knob in family.knobs:
        value = selection.knobs[knob.name]
        try:
            value = knob.coerce(value)
        except ExplorerError:
            wanted[knob.name] = str(value)  # keep the user's text in the link, as in the box
            continue
        if value != base[knob.name]:
            wanted[knob.name] = knob.format(value)
    wanted["input"] = "x".join(str(v) for v in selection.input_shape)
    all_knobs = {k.name for f in all_families().values() for k in f.knobs}
    for key in list(st.query_params):
        if (key in URL_KEYS or key in all_knobs) and key not in wanted:
            del st.query_params[key]
    for key, value in wanted.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value


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
