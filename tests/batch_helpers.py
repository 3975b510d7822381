"""Extractors for batch tests that must run inside spawned worker processes (so they live in an importable
module, not in a test file's locals)."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

from grader.claims import Claims
from grader.extract.rules import RulesExtractor
from grader.transcript import Transcript

LOG_ENV = "COACH_TEST_EXTRACTOR_LOG"


class CountingRules(RulesExtractor):
    """The rules extractor, noting in $COACH_TEST_EXTRACTOR_LOG which process and which instance graded what."""

    def extract(self, transcript: Transcript) -> Claims:
        if "_uid" not in self.__dict__:  # set once per unpickled instance, so each copy has its own
            self._uid = uuid.uuid4().hex
            self._tasks = 0
        self._tasks += 1
        with Path(os.environ[LOG_ENV]).open("a", encoding="utf-8") as f:
            f.write(json.dumps({"pid": os.getpid(), "uid": self._uid, "tasks": self._tasks}) + "\n")
        return super().extract(transcript)


class SlowRules(RulesExtractor):
    """The rules extractor, except that a transcript from a file named *slow* takes a minute."""

    def extract(self, transcript: Transcript) -> Claims:
        if "slow" in Path(transcript.source or "").name:
            time.sleep(60)
        return super().extract(transcript)


class RenamedRules(RulesExtractor):
    """The rules extractor under another name (a new extractor version, as far as the manifest knows)."""

    name = "rules-v2"
