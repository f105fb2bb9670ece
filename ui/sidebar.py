"""The shared sidebar: family, preset, every knob and the input size, mirrored in the URL.

Widgets are generated from each family's knob declarations; widget keys are namespaced by family
("resnet.depth"). The URL mirrors the choice with plain names (?family=resnet&preset=resnet56&depth=56&input=3x32x32),
so a copied link reproduces the view. (Streamlit's bind="query-params" writes a selectbox's label, not its value,
into the URL: "VGG-16 (config D)" instead of "vgg16"; hence this module does it.)

Where the selection lives: in one plain session_state entry (STATE), never only in widget state. Streamlit drops
the state of a widget a run does not draw (another family's knobs), and a widget whose value comes from
session_state but whose declared default is its minimum is first drawn at that minimum by the browser (seen in
Chromium for 20-235 ms after a reload, and for good when a folded expander remounts it, which sent the minimum
back). So every widget is drawn with value=/index= taken from STATE, its key is re-seeded from STATE when it
differs, and its on_change callback (run before the script) writes the user's change into STATE.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from explorer import all_families
from explorer.analysis.compare import natural_input
from explorer.errors import ExplorerError
from explorer.registry import MAX_CHANNELS, Family, Knob, parse_input_shape, shorten, whole
from ui.notices import escape_markdown

CUSTOM = "custom"
AUTO = "auto"  # a choice knob's "derived from the other knobs" entry (None would show "Choose an option")
IN_C, IN_H, IN_W, IN_SQUARE = "in.c", "in.h", "in.w", "in.square"
MAX_SLIDER_SIDE = 512  # the CLI and explorer.analyze accept up to explorer.registry.MAX_SIDE
STATE = "sidebar.state"
NOTICES = "sidebar.notices"


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
    """A knob value as its widget holds it (text for lists of numbers, AUTO for an automatic choice)."""
    if knob.kind == "ints":
        return ",".join(str(v) for v in value) if value is not None else ""
    if knob.kind == "choice" and value is None:
        return AUTO
    return value


def knob_value(knob: Knob, value):
    """A widget's value as the engine takes it."""
    if knob.kind == "choice" and value == AUTO:
        return None
    return value


# -- the selection, kept outside widget state ------------------------------------------------------------------


def _state() -> dict:
    if STATE not in st.session_state:
        family = next(iter(all_families().values()))
        c, h, w = family.default_input
        st.session_state[STATE] = {"family": family.name, "presets": {}, "knobs": {}, "input": [c, h, w, h == w]}
    return st.session_state[STATE]


def _preset_of(family: Family) -> str:
    return _state()["presets"].setdefault(family.name, _default_preset(family))


def _knobs_of(family: Family) -> dict:
    stored = _state()["knobs"].setdefault(family.name, {})
    for knob in family.knobs:
        stored.setdefault(knob.name, widget_value(knob, knob.default))
    return stored


def _apply_preset(family: Family, name: str) -> None:
    """A preset chosen: its knob values, and its input (a later input change by the user stands)."""
    state = _state()
    state["presets"][family.name] = name
    values = family.defaults()
    if name in family.presets:
        values.update(family.presets[name].knobs)
        if not family.input_knob:
            c, h, w = natural_input(name)[0]
            if max(h, w) <= MAX_SLIDER_SIDE and c <= MAX_CHANNELS:
                state["input"] = [c, h, w, h == w]
    state["knobs"][family.name] = {k.name: widget_value(k, values[k.name]) for k in family.knobs}


def choose(family: str, preset: str | None = None, knobs: dict | None = None) -> None:
    """Select a network from a page (the Custom builder's "open in Explore"): family, preset or custom knobs."""
    fam = all_families()[family]
    _state()["family"] = family
    _apply_preset(fam, preset or CUSTOM)
    for name, value in (knobs or {}).items():
        _state()["knobs"][family][name] = widget_value(fam.knob(name), value)


def set_knob(family: str, name: str, value) -> None:
    """A page's or view's button that sets one of the sidebar's knobs (FractalNet's "keep only this column")."""
    fam = all_families()[family]
    _knobs_of(fam)[name] = widget_value(fam.knob(name), value)


def use_input(shape, family: str | None = None) -> None:
    """A page's button that sets the sidebar's input (Explore's "use this input"); MobileNet's is its resolution."""
    c, h, w = shape
    fam = all_families()[family] if family else None
    if fam is not None and fam.input_knob:
        if h == w:
            try:
                _knobs_of(fam)[fam.input_knob] = fam.knob(fam.input_knob).coerce(h)
            except ExplorerError:
                pass  # outside the knob's range: the input stays as it was
    if max(h, w) <= MAX_SLIDER_SIDE:
        _state()["input"] = [c, h, w, h == w]


def _stored(path: tuple, key: str, convert=None):
    """on_change: the widget's new value into STATE (callbacks run before the script)."""

    def store():
        value = st.session_state[key]
        target = _state()
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = convert(value) if convert else value
        st.session_state.pop(NOTICES, None)  # the link's notices are answered once the user changes something

    return store


def _seed(key: str, value) -> None:
    """Give a widget its value from STATE (when Streamlit dropped it or a preset changed it)."""
    if st.session_state.get(key, _MISSING) != value:
        st.session_state[key] = value


_MISSING = object()


def _changed_preset() -> None:
    state = _state()
    family = all_families()[state["family"]]
    _apply_preset(family, st.session_state[f"{family.name}.preset"])
    st.session_state.pop(NOTICES, None)


def _default_preset(family: Family) -> str:
    defaults = family.defaults()
    for name, preset in family.presets.items():
        if all(defaults.get(k) == v for k, v in preset.knobs.items()):
            return name
    return CUSTOM


# -- the widgets ------------------------------------------------------------------------------------------------


def knob_options(family: Family, knob: Knob, knobs: dict) -> list | None:
    """The valid values of a knob given the others (ResNet's depth: 6n+2 or 9n+2), or None for a free range."""
    if knob.values is None:
        return None
    try:
        others = {k.name: k.coerce(knob_value(k, knobs[k.name])) for k in family.knobs if k.name != knob.name}
    except ExplorerError:
        others = family.defaults()
    return list(knob.values(others))


KEPT_KNOBS = "knobs.kept"  # a plain session entry: '<owner>.<knob>' -> the widget's last value


def knob_widget(container, owner, knob: Knob):
    """A widget for a knob of an experiment (ui.experiments), its value in widget state under '<owner>.<knob>'.

    Streamlit forgets a widget's state after a run that does not draw it (a visit to another page), so the
    last value is also kept in a plain session entry and given back when the widget is drawn again."""
    key = f"{owner.name}.{knob.name}"
    kept = st.session_state.setdefault(KEPT_KNOBS, {})
    if key not in st.session_state:
        st.session_state[key] = kept.get(key, widget_value(knob, knob.default))
    held = st.session_state[key]
    if _number_box_knob(knob) and isinstance(held, int) and not isinstance(held, bool):
        st.session_state[key] = float(held)  # the box holds floats (number_box); a link or the default gave an int
    value = _knob_widget(container, knob, key)
    kept[key] = st.session_state[key]
    return value


def _knob_widget(container, knob: Knob, key: str):
    label, help_text = knob.title, knob.help + (f" Auto: {knob.auto}." if knob.optional else "")
    common = dict(key=key, help=help_text)
    if knob.kind == "bool":
        return container.toggle(label, **common)
    if knob.kind == "choice":
        options = ([AUTO] if knob.optional else []) + list(knob.choices)
        value = container.selectbox(label, options, format_func=lambda v: _auto_text(knob, v), **common)
        return knob_value(knob, value)
    if knob.kind == "ints":
        return container.text_input(label, **common)
    if knob.kind == "float":
        step = float(knob.step or 0.05)
        decimals = max(2, len(f"{step:g}".partition(".")[2]))
        return container.slider(label, float(knob.low), float(knob.high), step=step, format=f"%.{decimals}f", **common)
    if _number_box_knob(knob):  # the float box the knob judges: '1e9' and '12.5' are refused, not read as 1 and 12
        placeholder = f"auto: {knob.auto}" if knob.optional else None
        return number_box(container, label, placeholder=placeholder, **common)
    return container.slider(label, int(knob.low), int(knob.high), step=int(knob.step or 1), **common)


def _auto_text(knob: Knob, v) -> str:
    return f"auto: {knob.auto}" if v == AUTO else str(v)


def number_box(container, label: str, value=None, **kwargs):
    """A box for a whole number that the engine judges: typed text reaches the server as the student wrote it.

    Not st.number_input's whole-number box: its browser side reads the text with parseInt, so "1e9" became 1 and
    "12.5" became 12 without a word, and a value beyond its bounds was held back with only a hover icon (seen in
    Chromium, Streamlit 1.5x). A box of floats without bounds sends 1e9 and 12.5 as typed; the knob or the input
    check then refuses them in one sentence naming the range, and the rest of the sidebar stays as it was.
    value=None for a box whose value is in session state under its key (an empty box then reads None)."""
    return whole_or_typed(
        container.number_input(label, value=None if value is None else float(value), step=1.0, format="%g", **kwargs)
    )


def whole_or_typed(value):
    """A number box's float as the engine takes it: 32.0 is 32; 12.5 and -3.0 stay as typed, for the sentence."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _number_box_knob(knob: Knob) -> bool:
    return knob.kind == "int" and knob.values is None and (knob.optional or knob.high - knob.low > 400)


def _family_knob_widget(container, family: Family, knob: Knob, knobs: dict):
    key = f"{family.name}.{knob.name}"
    value = knobs[knob.name]
    boxed = _number_box_knob(knob)
    _seed(key, float(value) if boxed and isinstance(value, int) else value)
    label = knob.title
    help_text = knob.help + (f" Auto: {knob.auto}." if knob.optional else "")
    path = ("knobs", family.name, knob.name)
    common = dict(key=key, help=help_text, on_change=_stored(path, key, whole_or_typed if boxed else None))
    if knob.kind == "bool":
        return container.toggle(label, value=bool(value), **common)
    options = knob_options(family, knob, knobs)
    if knob.kind == "choice" or options is not None:
        if options is None:
            options = ([AUTO] if knob.optional else []) + list(knob.choices)
        if value not in options:  # e.g. a CIFAR depth kept after switching to the ImageNet stem: shown, and refused
            options = [value, *options]

        return container.selectbox(
            label, options, index=options.index(value), format_func=lambda v: _auto_text(knob, v), **common
        )
    if knob.kind == "ints":
        return container.text_input(label, value=value, **common)
    if knob.kind == "text":  # a custom network's layers: the Custom builder page has the roomy version
        return container.text_area(label, value=value, height=220, **common)
    if knob.kind == "float":
        step = float(knob.step or 0.05)
        decimals = max(2, len(f"{step:g}".partition(".")[2]))  # SqueezeNet's SR 0.125 must not show as 0.13
        return container.slider(
            label, float(knob.low), float(knob.high), float(value), step=step, format=f"%.{decimals}f", **common
        )
    if boxed:
        placeholder = f"auto: {knob.auto}" if knob.optional else None
        return number_box(container, label, value, placeholder=placeholder, **common)
    return container.slider(label, int(knob.low), int(knob.high), int(value), step=int(knob.step or 1), **common)


def declared_input(family: Family, knobs: dict) -> tuple | None:
    """The input the knobs declare (Keras's input_shape= in a custom network), or None (also for a text with an
    error: the page shows that error)."""
    if family.input_from is None:
        return None
    try:
        return family.input_from(knobs)
    except ExplorerError:
        return None


def input_widgets(container, family: Family, knobs: dict) -> tuple:
    c, h, w, square = _state()["input"]
    for key, value in ((IN_C, float(c) if isinstance(c, int) else c), (IN_H, h), (IN_W, w), (IN_SQUARE, square)):
        _seed(key, value)
    channels = number_box(
        container,
        "Input channels (C)",
        c,
        key=IN_C,
        help=f"3 for RGB images, 1 for grey-scale (1 to {MAX_CHANNELS}).",
        on_change=_stored(("input", 0), IN_C, whole_or_typed),
    )
    declared = declared_input(family, knobs)
    if declared is not None:  # a custom network with Keras's input_shape= on its first layer
        container.caption(f"Input {'×'.join(map(str, declared))}, set by input_shape= in the layers.")
        return declared
    if family.input_knob:  # MobileNet: the resolution knob is the input side
        side = knobs.get(family.input_knob) or family.default_input[1]
        container.caption(f"Input {channels}×{side}×{side}, set by '{family.knob(family.input_knob).title}'.")
        return channels, int(side), int(side)
    square = container.toggle("Square input", square, key=IN_SQUARE, on_change=_stored(("input", 3), IN_SQUARE))
    height = container.slider(
        "Input size (height)" if not square else "Input size",
        1,
        MAX_SLIDER_SIDE,
        h,
        key=IN_H,
        help="32 for CIFAR-10, 224 for ImageNet.",
        on_change=_stored(("input", 1), IN_H),
    )
    if square:
        return channels, height, height
    width = container.slider("Input width", 1, MAX_SLIDER_SIDE, w, key=IN_W, on_change=_stored(("input", 2), IN_W))
    return channels, height, width


def architecture_sidebar(expanded: bool = True) -> Selection:
    """Draw the sidebar and return the selection (also kept in st.session_state['selection']).

    expanded=False folds the knobs and input on pages that do not use the architecture."""
    families = all_families()
    sb = st.sidebar
    sb.header("Architecture")
    restore_from_url(families)
    state = _state()
    names = list(families)
    _seed("family", state["family"])
    family_name = sb.selectbox(
        "Family",
        names,
        index=names.index(state["family"]),
        key="family",
        format_func=lambda n: families[n].title,
        on_change=_stored(("family",), "family"),
    )
    family = families[family_name]
    preset_key = f"{family.name}.preset"
    current = _preset_of(family)
    _seed(preset_key, current)
    options = list(family.presets) + [CUSTOM]
    preset = sb.selectbox(
        "Preset",
        options,
        index=options.index(current),
        key=preset_key,
        format_func=lambda n: "custom (knobs below)" if n == CUSTOM else family.presets[n].title,
        on_change=_changed_preset,
    )
    if not expanded:
        sb.caption("This page does not use the architecture below; Explore, Compare and the labs do.")
    stored = _knobs_of(family)
    with sb.expander("Knobs", expanded=expanded):
        knobs = {knob.name: knob_value(knob, _family_knob_widget(st, family, knob, stored)) for knob in family.knobs}
    with sb.expander("Input", expanded=expanded):
        shape = input_widgets(st, family, knobs)
    preset = None if preset == CUSTOM else preset
    changed = _changed_from_preset(family, preset, knobs)
    if preset and changed:
        sb.caption(f"Changed from the preset: {', '.join(changed)}.")
    chosen = Selection(family.name, preset, knobs, shape)  # as the sidebar shows it, and the link keeps it
    mirror_in_url(family, chosen)
    # The pages get the network the knobs make: a preset with a knob changed is no longer that preset (its title and
    # published figures would name another network), so they see the family's network with these knobs.
    selection = Selection(family.name, None, knobs, shape) if changed else chosen
    st.session_state["selection"] = selection
    st.session_state["selection.preset shown"] = preset
    show_link_notices()
    return selection


# -- the link ---------------------------------------------------------------------------------------------------

URL_KEYS = ("family", "preset", "input")


def _ignored(notices: list, what: str, value, why: str) -> None:
    notices.append(f"The link's {what}={shorten(value)} was ignored: {why}")


def restore_from_url(families: dict) -> None:
    """On a session's first run, take family, preset, knobs and input from the link; name each value ignored."""
    if st.session_state.get("url.restored"):
        return
    st.session_state["url.restored"] = True
    q = st.query_params
    notices: list[str] = []
    state = _state()
    name = q.get("family")
    if name is not None and name not in families:
        _ignored(notices, "family", name, f"there is no such family; the families are {', '.join(families)}.")
        name = None
    preset = q.get("preset")
    if name is None:
        name = next((p.family for p in _presets(families) if p.name == preset), state["family"])
    family = families[name]
    if name != state["family"]:
        c, h, w = family.default_input
        state["input"] = [c, h, w, h == w]
    state["family"] = name
    if preset in family.presets:
        _apply_preset(family, preset)
    else:
        if preset is not None and preset != CUSTOM:
            _ignored(
                notices,
                "preset",
                preset,
                f"{family.title} has no such preset; its presets are {', '.join(family.presets)}.",
            )
        if preset is not None or any(k.name in q for k in family.knobs):
            state["presets"][name] = CUSTOM
    stored = _knobs_of(family)
    before = dict(stored)
    refused: dict[str, int] = {}  # knob -> its notice
    for knob in family.knobs:
        if knob.name not in q:
            continue
        try:
            stored[knob.name] = widget_value(knob, knob.coerce(q[knob.name]))
        except ExplorerError as e:
            refused[knob.name] = len(notices)
            _ignored(notices, knob.name, q[knob.name], str(e))
    for knob in family.knobs:  # a value the control would not offer (a depth that is not 6n+2), once all are read
        if knob.name not in q or knob.values is None:
            continue
        options = knob_options(family, knob, stored)
        if not options or knob_value(knob, stored[knob.name]) in options:
            continue
        if knob.name not in refused:
            try:
                family.resolve({k.name: knob_value(k, stored[k.name]) for k in family.knobs})
                why = f"it is not one of the values the other knobs allow ({_few(options)})."
            except ExplorerError as e:
                why = str(e)
            refused[knob.name] = len(notices)
            _ignored(notices, knob.name, q[knob.name], why)
            stored[knob.name] = before[knob.name]
        if knob_value(knob, stored[knob.name]) not in options:  # what was there fails with the link's other knobs
            wanted = _number(q[knob.name])
            wanted = wanted if wanted is not None else knob_value(knob, before[knob.name])
            nearest = min(options, key=lambda v: abs(v - wanted))
            stored[knob.name] = widget_value(knob, nearest)
            notices[refused[knob.name]] += f" The nearest valid {knob.title}, {nearest}, is shown."
    if "input" in q:
        try:
            c, h, w = parse_input_shape(q["input"])
            if max(h, w) > MAX_SLIDER_SIDE:
                raise ExplorerError(
                    f"the sidebar's input goes up to {MAX_SLIDER_SIDE} pixels per side (the command line "
                    "analyses larger inputs: python -m explorer summary NAME --input CxHxW)."
                )
        except ExplorerError as e:
            _ignored(notices, "input", q["input"], str(e))
        else:
            state["input"] = [c, h, w, h == w]
    if notices:
        st.session_state[NOTICES] = notices


def _number(text) -> int | None:
    try:
        return whole(text)
    except ValueError:
        return None


def _few(values, shown: int = 6) -> str:
    text = ", ".join(str(v) for v in values[:shown])
    return text + (", ..." if len(values) > shown else "")


def show_link_notices() -> None:
    """The values of the link that were ignored, one sentence each, above the page (until the user changes one)."""
    for text in st.session_state.get(NOTICES, ()):
        st.warning(escape_markdown(text), icon=":material/link_off:")


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


def shown_preset() -> str | None:
    """The preset the sidebar shows, also when a knob was changed from it (the selection then has none)."""
    return st.session_state.get("selection.preset shown", current_selection().preset)
