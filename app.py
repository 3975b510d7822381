"""The app's entry point: `streamlit run app.py` (or `make run`). A router and nothing else: page config, the
session-state defaults, the mode in the sidebar, and the three pages. See docs/app.md."""

import streamlit as st

from app_ui import resources
from app_ui.state import init_state
from grader.scorecard import inline

st.set_page_config(page_title="Interview coach: serving a 175B LLM", page_icon="🎓", layout="wide")
init_state()

page = st.navigation(
    [
        st.Page("app_pages/practice.py", title="Practice", icon=":material/forum:", url_path="practice", default=True),
        st.Page("app_pages/replay.py", title="Replay", icon=":material/history:", url_path="replay"),
        st.Page("app_pages/batch.py", title="Batch", icon=":material/table_view:", url_path="batch"),
    ]
)
with st.sidebar:
    st.caption("Mode")
    st.markdown(f"**{inline(resources.mode_label(resources.settings()))}**")
page.run()
resources.prewarm_scorecard()  # the rubric, labels and scorecard view, in the background, once per process
