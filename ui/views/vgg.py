"""VGG: Table 1 of the paper, generated from the same table the builder uses, with our counts under it."""

import streamlit as st

from explorer import analyze
from explorer.errors import ExplorerError
from explorer.families.vgg import CONFIGS, TABLE_1, WEIGHT_LAYERS

FAMILY = "vgg"


def table_1() -> list[dict]:
    """Table 1 as rows (one per stage), columns A..E: the builder's data, printed as the paper prints it."""
    rows = [{"": "input", **{c: "224×224 RGB image" for c in CONFIGS}}]
    for stage in range(5):
        rows.append({"": f"stage {stage + 1}", **{c: "<br>".join(TABLE_1[c][stage]) for c in CONFIGS}})
        rows.append({"": "", **{c: "maxpool" for c in CONFIGS}})
    for layer in ("FC-4096", "FC-4096", "FC-1000", "soft-max"):
        rows.append({"": "", **{c: layer for c in CONFIGS}})
    rows.insert(0, {"": "weight layers", **{c: str(WEIGHT_LAYERS[c]) for c in CONFIGS}})
    return rows


def render(selection, analysis) -> None:
    st.markdown(
        "**Table 1 of the paper**, printed from `explorer/families/vgg.py` — the table the builder "
        "reads. The highlighted column is the configuration in the sidebar."
    )
    config = selection.knobs.get("config", "D")
    # An HTML table, one layer per line as the paper prints it: a dataframe cuts the stage cells
    # ("conv3-512 conv3-512 conv3-512 conv3-512") at 1280 px. Every cell is the builder's own data, not user text.
    rows = table_1()
    head = "".join(f"<th>{c}{' ◀' if c == config else ''}</th>" for c in [""] + list(CONFIGS))
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=chosen' if c == config else ''}>{row[c]}</td>" for c in [""] + list(CONFIGS))
        + "</tr>"
        for row in rows
    )
    st.html(
        "<style>.vgg-table{border-collapse:collapse;font-size:0.85rem;width:100%}"
        ".vgg-table td,.vgg-table th{border:1px solid #dee2e6;padding:2px 6px;text-align:center;vertical-align:top}"
        ".vgg-table td.chosen{background:#fff4e6}</style>"
        f"<table class='vgg-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )
    knobs = {k: v for k, v in selection.knobs.items() if k != "config"}
    try:
        counts = {c: analyze("vgg", selection.input_shape, **knobs, config=c).totals.params for c in CONFIGS}
    except ExplorerError as e:
        st.error(str(e))
        return
    shape = "x".join(map(str, selection.input_shape))
    st.markdown(
        f"Parameters of each column at {shape} with the sidebar's knobs: "
        + ", ".join(f"**{c}** {n / 1e6:,.2f}M" for c, n in counts.items())
        + "."
    )
    st.caption(
        "Every convolution is 3x3 with stride 1 and padding 1 (so it keeps the side), except C's 1x1 "
        "convolutions; every max pool is 2x2 with stride 2 (so it halves the side)."
    )
