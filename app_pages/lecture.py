"""Lecture: the seed lecture in its own order, each slide's claim beside the live result that tests it."""

import streamlit as st

from ui import lecture

if not lecture.presenter.presenting():  # on a projector the step's own heading is the title
    st.title("The lecture, step by step")
    st.caption("← → move between steps (or the buttons); the step is in the link. Presenter mode is in the sidebar.")
    lecture.prepare_button()
lecture.show()
