"""Shared pieces of the Streamlit app: session-state keys (`state`), resource factories (`resources`), the
cached grading step (`grading`) and the scorecard view (`scorecard_view`). The grading core lives in `grader/`."""
