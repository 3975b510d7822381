"""pipeline.LiveChecks: an interview's new figures are checked on top of the verdicts already given, with the
same verdicts as checking every figure from the start."""

from __future__ import annotations

from grader.checker import check_claims
from grader.claims import NumericClaim
from grader.loaders import load_transcript
from grader.paths import TRANSCRIPTS_DIR
from grader.pipeline import LiveChecks
from grader.reading.reader import read_numbers


def _figures(name: str) -> list[NumericClaim]:
    return read_numbers(load_transcript(TRANSCRIPTS_DIR / name))


def _json(checks: list) -> list[str]:
    return [c.model_dump_json() for c in checks]


def test_growing_lists_of_two_interviews_interleaved() -> None:
    a, b = _figures("l6_strong.yaml"), _figures("unit_slips.yaml")
    assert len(a) > 10 and len(b) > 5
    live = LiveChecks()
    for n in range(1, max(len(a), len(b)) + 1):
        for figures in (a[:n], b[:n]):
            assert _json(live.check(figures)) == _json(check_claims(figures))


def test_only_the_new_figures_are_checked(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    figures = _figures("l6_strong.yaml")
    live = LiveChecks()
    live.check(figures[:-3])
    import grader.pipeline as pipeline

    seen: list[int] = []
    real = pipeline.check_claims

    def counting(claims, *args):  # type: ignore[no-untyped-def]
        seen.append(len(list(claims)))
        return real(claims, *args)

    monkeypatch.setattr(pipeline, "check_claims", counting)
    assert _json(live.check(figures)) == _json(check_claims(figures))
    assert seen == [3]


def test_a_list_that_does_not_extend_the_last_is_checked_afresh() -> None:
    figures = _figures("l6_strong.yaml")
    live = LiveChecks()
    live.check(figures)
    edited = [*figures[:5], figures[6], *figures[7:]]  # a figure taken out in the middle
    assert _json(live.check(edited)) == _json(check_claims(edited))
    assert _json(live.check(figures[:4])) == _json(check_claims(figures[:4]))
    assert live.check([]) == []
