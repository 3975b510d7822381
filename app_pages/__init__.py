"""The app's pages (Practice, Replay, Batch), routed by app.py with st.navigation.

Not named `pages/`: Streamlit would auto-discover that folder as a legacy multipage app and fight st.navigation.
Each page file defines `render()` and draws only when Streamlit runs it as `__main__`.
"""
