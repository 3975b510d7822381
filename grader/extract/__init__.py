"""Claim extractors: the seam between a transcript and the claims that scoring reads.

`base` holds the Protocol and the result record, `grounding` checks every claim's quote against the
transcript, `cache` stores validated claims (and which structured-output method an endpoint takes), `llm`
turns a transcript into claims with a model, and `structured` is how it asks that model for JSON on any
OpenAI-compatible server (the one place langchain/openai are imported, inside functions; nothing imports
either module at package import time).
"""
