"""Exercises: "Try yourself" with paper and pen, checked against PyTorch, one layer at a time."""

import streamlit as st

from explorer.errors import AnswerError, ExplorerError
from explorer.labs import exercises as ex
from ui import labs, network, notices, sidebar

URL_SEED, URL_LEVEL = "exercise", "difficulty"  # this page's own query parameters

st.title("Try yourself: shapes and parameters")
st.caption(
    "Use only paper and pen: for each layer write its output volume and its number of parameters; the "
    "app checks each answer against the real PyTorch layers. Seed 0 is the lecture's own exercise; "
    "any other seed draws a network, and its link gives the whole class the same one."
)

if not st.session_state.get("ex.url_read"):  # a shared link chooses the exercise once, on arrival
    st.session_state["ex.url_read"] = True
    if URL_SEED in st.query_params or URL_LEVEL in st.query_params:
        try:
            chosen = ex.exercise(st.query_params.get(URL_SEED, 0), st.query_params.get(URL_LEVEL, 1))
            st.session_state["ex.seed"], st.session_state["ex.level"] = chosen.seed, chosen.level
        except ExplorerError as e:
            st.warning(
                f"{notices.escape_markdown(e)} Showing the lecture's exercise instead.", icon=":material/warning:"
            )
labs.remember("ex.seed", 0)
labs.remember("ex.level", 1)
labs.remember("ex.order", "HWC")


def _new_seed():
    st.session_state["ex.seed"] = ex.random_seed()


def _level_changed():
    if st.session_state["ex.seed"] == 0:  # the lecture's exercise has no levels: draw one at the new level
        _new_seed()


c = st.columns([2, 1, 1, 1])
level = c[0].selectbox(
    "Difficulty",
    list(ex.LEVELS),
    key="ex.level",
    on_change=_level_changed,
    format_func=lambda n: f"{n}. {ex.LEVELS[n].title}",
)
seed = sidebar.number_box(  # the exercise judges the typed seed ("1e9" is not 1)
    c[1], "Seed", key="ex.seed", help=f"0: the lecture's exercise; any other seed up to {ex.MAX_SEED:,} draws one."
)
c[2].button("New exercise", on_click=_new_seed, icon=":material/casino:", width="stretch")
c[3].button("The lecture's", on_click=lambda: st.session_state.update({"ex.seed": 0}), width="stretch")
order = st.radio("Write shapes as", list(ex.ORDERS), format_func=ex.ORDERS.get, key="ex.order", horizontal=True)
labs.keep("ex.seed", "ex.level", "ex.order")
for key, value in ((URL_SEED, str(seed)), (URL_LEVEL, str(level))):
    if st.query_params.get(key) != value:
        st.query_params[key] = value

try:
    exercise = ex.exercise(seed, level)
except ExplorerError as e:
    notices.show_error(e)
    st.stop()
analysis = exercise.analysis()
score = st.session_state.setdefault("ex.score", ex.Scorecard())
score_box = st.empty()
c_, h, w = exercise.input_shape
st.subheader(exercise.title)
st.caption(
    ex.LEVELS[level].summary
    if seed
    else "The lecture, Module 1: 32×32×3 input, conv 6@5×5, pool 2/2, conv 16@5×5, pool 2/2, all without padding."
)
st.markdown(f"**Input**: {h} × {w} × {c_} ({'H × W × C' if order == 'HWC' else f'C × H × W: {c_} × {h} × {w}'})")
show_all = st.toggle("Show every answer", key=f"ex.{seed}.{level}.all")

for i, (row, text) in enumerate(zip(analysis.rows, exercise.descriptions())):
    base = f"ex.{seed}.{level}.{i}"
    with st.container(border=True):
        cols = st.columns([3, 2, 2, 1])
        cols[0].markdown(f"**{i + 1}. {text}**")
        shape_hint = "H x W x C" if order == "HWC" else "C x H x W"  # no example number: it could be an answer
        for kind, col, label, hint in (
            ("shape", cols[1], "Output volume", f"{shape_hint}, or units"),
            ("params", cols[2], "Parameters", "a whole number"),
        ):
            labs.remember(f"{base}.{kind}", "")
            answer = col.text_input(label, key=f"{base}.{kind}", placeholder=hint)
            labs.keep(f"{base}.{kind}")
            if not answer.strip():
                continue
            try:
                verdict = ex.check_shape(row, answer, order) if kind == "shape" else ex.check_params(row, answer)
            except AnswerError as e:
                col.warning(notices.escape_markdown(e), icon=":material/edit:")
                continue
            score.record(f"{base}.{kind}", verdict.right)
            if verdict.right:
                col.success("Right", icon=":material/check_circle:")
            else:
                col.error("Not this one: check the formula, or show the derivation.", icon=":material/cancel:")
        show = cols[3].toggle("Derivation", key=f"{base}.show", value=False) or show_all
        if show:
            score.reveal(f"{base}.shape")
            score.reveal(f"{base}.params")
            st.markdown(f"Answer: **{ex.shape_answer(row.output_shape, order)}**, **{row.params:,}** parameters.")
            network.derivation(row)

score_box.info(score.summary(), icon=":material/scoreboard:")
with st.expander("This exercise in the custom notation (paste it in the Custom builder)"):
    st.code(exercise.spec, language=None)
    st.caption("Share this exercise: copy the page's link, it holds the seed and the difficulty.")
