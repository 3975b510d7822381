"""Measure the grader against expert labels (`python -m grader eval`)."""
