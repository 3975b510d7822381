"""Plain words for the rubric's ids, so no reader of a scorecard meets `tp_splits_layers_between_gpus`.

Most labels are the rubric's own (categories, sub-criteria, concepts, question topics, quantities, flags); the
misconceptions and the "never came up" wording of flags, which the rubric words with ids, come from
`rubric/labels.yaml`. `vocabulary()` loads both once per process and is the one place they are read; the
Markdown and text scorecards, the app and the terminal all go through it. Text the grader wrote with ids in it
(an evidence note "misconception tp_across_nodes", a flag's "tensor_parallelism never reaches ...") is put into
words by `plain(text)`: every snake_case id the vocabulary knows is replaced by its label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from grader.datafile import load_yaml_model
from grader.errors import GraderError
from grader.paths import RUBRIC_DIR

LABELS_FILE = RUBRIC_DIR / "labels.yaml"
_ID = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")


class LabelFile(BaseModel):
    """rubric/labels.yaml."""

    model_config = ConfigDict(extra="forbid")

    misconceptions: dict[str, str] = Field(default_factory=dict, description="misconception id -> plain words")
    flags_not_shown: dict[str, str] = Field(
        default_factory=dict, description="flag id -> what the flag means when it fires on something never said"
    )
    categories_short: dict[str, str] = Field(default_factory=dict, description="category id -> a short header")


@dataclass
class Vocabulary:
    """Every id a report can carry, by kind, with its label."""

    categories: dict[str, str] = field(default_factory=dict)
    subcriteria: dict[tuple[str, str], str] = field(default_factory=dict)
    concepts: dict[str, str] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)
    quantities: dict[str, str] = field(default_factory=dict)
    flags: dict[str, str] = field(default_factory=dict)
    misconceptions: dict[str, str] = field(default_factory=dict)
    flags_not_shown: dict[str, str] = field(default_factory=dict)
    categories_short: dict[str, str] = field(default_factory=dict)

    def words(self) -> dict[str, str]:
        """id -> label for free text; where two kinds share an id the more specific one wins (a misconception
        over a concept, a concept over a quantity, ...)."""
        out: dict[str, str] = {}
        subs = {sid: label for (_, sid), label in self.subcriteria.items()}
        for table in (self.flags, self.categories, subs, self.topics, self.quantities, self.concepts):
            out.update(table)
        out.update(self.misconceptions)
        return out

    def plain(self, text: str) -> str:
        """`text` with every known snake_case id replaced by its label (lower-cased inside a sentence, unless
        it starts with an acronym: "KV cache", "NVLink")."""
        words = self.words()

        def swap(m: re.Match[str]) -> str:
            label = words.get(m.group(0))
            if label is None:
                return m.group(0)
            at_start = not text[: m.start()].strip() or text[: m.start()].rstrip().endswith((".", ":", "!", "?"))
            if not at_start and len(label) > 1 and label[1].islower():
                return label[0].lower() + label[1:]
            return label

        return _ID.sub(swap, text)


def load_label_file(path: str | Path = LABELS_FILE) -> LabelFile:
    return load_yaml_model(path, LabelFile)


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The rubric's labels and rubric/labels.yaml, once per process. A rubric that cannot be loaded leaves its
    part empty (ids are then shown as words, `kv_total` as "kv total"): a scorecard still renders."""
    vocab = Vocabulary()
    try:
        extra = load_label_file()
        vocab.misconceptions.update(extra.misconceptions)
        vocab.flags_not_shown.update(extra.flags_not_shown)
        vocab.categories_short.update(extra.categories_short)
    except GraderError:
        pass
    try:
        from grader.rubric import default_rubric

        rubric = default_rubric()
    except (GraderError, ImportError):
        return vocab
    for cat in rubric.categories:
        vocab.categories[cat.id] = cat.label
        for sub in cat.subcriteria:
            vocab.subcriteria[(cat.id, sub.id)] = sub.label
    for concept in rubric.concepts:
        vocab.concepts[concept.id] = concept.label
    vocab.topics.update({t.id: t.label for t in rubric.question_topics})
    vocab.quantities.update(_registry_labels())
    vocab.flags.update({f.id: f.label for f in [*rubric.red_flags.flags, *rubric.green_flags.flags]})
    return vocab


def _registry_labels() -> dict[str, str]:
    """The quantities' labels: the registry is the one list of them."""
    from grader.quantities.registry import REGISTRY

    return {qid: q.label for qid, q in REGISTRY.items()}


def plain(text: str) -> str:
    """`Vocabulary.plain` with the project's vocabulary."""
    return vocabulary().plain(text)


def as_words(identifier: str) -> str:
    """An id nobody labelled, as words: `parallelism_strategy` -> `Parallelism strategy`."""
    words = identifier.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:] if words else "(unnamed)"


def category_label(cat_id: str) -> str:
    return vocabulary().categories.get(cat_id) or as_words(cat_id)


def category_short(cat_id: str) -> str:
    """A category's name for a narrow column header: labels.yaml's, else the first word of its label."""
    return vocabulary().categories_short.get(cat_id) or category_label(cat_id).split()[0]


def criterion_label(cat_id: str, sub_id: str) -> str:
    return vocabulary().subcriteria.get((cat_id, sub_id)) or as_words(sub_id)


def quantity_label(quantity: str | None) -> str:
    if not quantity:
        return "Unnamed figure"
    return vocabulary().quantities.get(quantity) or as_words(quantity)


def concept_label(concept: str) -> str:
    return vocabulary().concepts.get(concept) or as_words(concept)


def topic_label(topic: str) -> str:
    return vocabulary().topics.get(topic) or as_words(topic)


def misconception_label(misconception: str) -> str:
    return vocabulary().misconceptions.get(misconception) or as_words(misconception)


def flag_not_shown(flag_id: str, rubric_text: str) -> str:
    """What a flag that fired on something never said means, in words; the rubric's text put into words when
    labels.yaml has no entry."""
    return vocabulary().flags_not_shown.get(flag_id) or plain(rubric_text)
