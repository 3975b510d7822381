"""Claim extractors: the seam between a transcript and the claims that scoring reads.

`base` holds the Protocol and the result record, `grounding` checks every claim's quote against the
transcript, `cache` stores validated claims, and `llm` is the one module that talks to a model (it alone
imports langchain/openai, and nothing imports it at package import time).
"""
