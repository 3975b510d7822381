"""The checker's parts: readings of a figure, what earlier figures it follows from, and diagnoses."""
