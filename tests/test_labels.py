"""Every id a reader could meet has plain words: the rubric's own labels, and rubric/labels.yaml for the
misconceptions and for flags that fire on something never said."""

from __future__ import annotations

from grader.labels import (
    LABELS_FILE,
    Vocabulary,
    category_short,
    flag_not_shown,
    load_label_file,
    misconception_label,
    plain,
    vocabulary,
)
from grader.rubric import default_rubric


def test_every_misconception_in_the_rubric_has_a_label() -> None:
    labels = load_label_file()
    ids = [m.id for c in default_rubric().concepts for m in c.misconceptions]
    assert ids, "the rubric defines misconceptions"
    missing = sorted(set(ids) - set(labels.misconceptions))
    assert not missing, f"add these to {LABELS_FILE.name} under misconceptions: {missing}"
    assert not sorted(set(labels.misconceptions) - set(ids)), "labels.yaml names misconceptions the rubric lacks"


def test_every_flag_in_the_rubric_has_a_label_and_plain_words_for_never_said() -> None:
    rubric = default_rubric()
    flags = [*rubric.red_flags.flags, *rubric.green_flags.flags]
    assert all(f.label.strip() for f in flags), "the rubric labels every flag"
    missing = sorted({f.id for f in flags} - set(load_label_file().flags_not_shown))
    assert not missing, f"add these to {LABELS_FILE.name} under flags_not_shown: {missing}"
    for f in flags:
        assert "_" not in flag_not_shown(f.id, f.when), f"{f.id}: the words still name an id"


def test_every_category_has_a_short_header() -> None:
    cats = {c.id for c in default_rubric().categories}
    assert cats <= set(load_label_file().categories_short)
    assert all(len(category_short(c)) <= 9 for c in cats)


def test_labels_are_plain_words() -> None:
    for label in load_label_file().misconceptions.values():
        assert "_" not in label and label[:1].isupper()
    assert misconception_label("ib_in_GBps") == "InfiniBand's 200 Gb/s read as gigabytes per second"


def test_plain_replaces_known_ids_in_sentences_and_leaves_the_rest() -> None:
    vocab = Vocabulary(concepts={"tensor_parallelism": "Tensor parallelism"}, misconceptions={"tp_x": "TP misread"})
    assert vocab.plain("tensor_parallelism never explained") == "Tensor parallelism never explained"
    assert vocab.plain("a tensor_parallelism misconception (tp_x)") == "a tensor parallelism misconception (TP misread)"
    assert vocab.plain("my_own_word stays") == "my_own_word stays"
    assert "_" not in plain("misconception: tp_splits_layers_between_gpus")
    assert vocabulary().quantities["weights_total"], "the rubric's quantities are in the vocabulary"
