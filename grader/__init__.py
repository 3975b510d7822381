"""The grading core: transcripts in, an evidence-linked scorecard out.

Importing this package pulls in no UI and no LLM client; those load only where they are used.
"""

__version__ = "0.1.0"
