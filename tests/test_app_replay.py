"""Replay page through AppTest: step to a turn (counted from 1) and see what was graded there; the transcript and
turn live in the URL; override a sub-criterion, find it again in a fresh session, and export a report that
carries both the reviewer's and the machine's score."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from app_ui import resources
from grader.interview import InterviewEngine
from grader.labels import category_label, criterion_label, quantity_label
from grader.loaders import load_transcript
from grader.overrides import load_overrides, sidecar_path
from grader.pipeline import grade_transcript
from grader.scorecard import inline
from grader.store import save_transcript_atomic

APP = str(Path(__file__).resolve().parent.parent / "app.py")
DATA = Path(__file__).parent / "data" / "transcripts"
TIMEOUT = 30


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "transcripts"
    root.mkdir()
    for name in ("project.yaml", "session.txt", "chat.json"):
        shutil.copy(DATA / "good" / name, root / name)
    monkeypatch.setenv("COACH_TRANSCRIPTS_DIR", str(root))
    monkeypatch.setenv("COACH_SESSIONS_DIR", str(root / "sessions"))
    monkeypatch.setattr(resources, "_secrets", dict)  # offline, whatever a local secrets.toml says
    st.cache_data.clear()
    yield root
    st.cache_data.clear()


def replay(query: dict[str, str] | None = None, **state: Any) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.switch_page("app_pages/replay.py")
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> str:
    parts = [
        e.value for kind in ("markdown", "caption", "info", "warning", "error", "success") for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


def test_lists_transcripts_and_steps_to_a_turn_with_its_findings(folder: Path) -> None:
    transcript = load_transcript(folder / "project.yaml")
    machine = grade_transcript(transcript)
    check = machine.checks[0]
    at = replay()
    assert at.selectbox(key="replay_file").options == ["chat.json", "project.yaml", "session.txt"]
    at.selectbox(key="replay_file").set_value("project.yaml").run()
    assert not at.exception

    shown_turn = check.turn + 1  # as people count: the opening question is turn 1
    at.slider(key="replay_turn").set_value(shown_turn).run()
    assert not at.exception
    assert at.slider(key="replay_turn").min == 1 and at.slider(key="replay_turn").max == len(transcript.turns)
    panel = shown(at)
    assert f"**Turn {shown_turn} of {len(transcript.turns)}**" in panel
    assert f"**{inline(quantity_label(check.quantity))}**: claimed" in panel
    assert f"turn {shown_turn} · {transcript.turns[check.turn].role}" in panel
    # evidence for a sub-criterion is shown at its turn
    ev_turns = {ev.turn for cat in machine.categories.values() for sub in cat.subscores.values() for ev in sub.evidence}
    if check.turn in ev_turns:
        assert "evidence for **" in panel

    # stepping back to the opening shows that nothing was graded there
    at.slider(key="replay_turn").set_value(1).run()
    assert "Nothing graded comes from this turn." in shown(at)
    assert "**Turn 1 of " in shown(at) and "Turn 0" not in shown(at)
    at.button(key="replay_next").click().run()
    assert at.session_state["replay_turn"] == 2
    at.button(key="replay_prev").click().run()
    assert at.session_state["replay_turn"] == 1
    at.button(key="replay_next_finding").click().run()
    assert at.session_state["replay_turn"] > 1
    assert "Nothing graded comes from this turn." not in shown(at)


def test_the_url_names_the_transcript_and_the_turn(folder: Path) -> None:
    """A reload or a bookmark opens where the reviewer was: file and turn are in the URL, both ways."""
    at = replay({"file": "project.yaml", "turn": "3"})
    assert at.selectbox(key="replay_file").value == "project.yaml"
    assert at.session_state["replay_turn"] == 3 and "**Turn 3 of 4**" in shown(at)
    at.button(key="replay_next").click().run()
    assert at.query_params["file"] == "project.yaml" and at.query_params["turn"] == "4"
    at.selectbox(key="replay_file").set_value("session.txt").run()
    assert at.query_params["file"] == "session.txt" and at.query_params["turn"] == "1", "another file starts at 1"

    again = replay(dict(at.query_params))  # the same URL in a new browser session (a reload)
    assert again.selectbox(key="replay_file").value == "session.txt" and again.session_state["replay_turn"] == 1

    missing = replay({"file": "gone.yaml", "turn": "2"})
    assert any("gone.yaml" in w.value and "not in the transcripts folder" in w.value for w in missing.warning)
    assert not missing.exception


def test_transcript_text_is_shown_as_paragraphs_not_yaml_lines(folder: Path) -> None:
    (folder / "wrapped.yaml").write_text(
        "turns:\n"
        "  - role: interviewer\n"
        "    content: Where do you start?\n"
        "  - role: candidate\n"
        "    content: |\n"
        "      The weights are 175B x 2 bytes = 350 GB in fp16,\n"
        "      so they need at least five 80 GB GPUs.\n"
        "\n"
        "      Then the KV cache:\n"
        "      - 4.7 MB per token\n"
        "      - 32 sequences at 2K\n",
        encoding="utf-8",
    )
    at = replay({"file": "wrapped.yaml", "turn": "2"})
    body = next(m.value for m in at.markdown if "350 GB" in m.value and "turn" not in m.value[:8].lower())
    assert "in fp16, so they need at least five 80 GB GPUs." in body, "a wrapped line is joined back"
    assert "\n\nThen the KV cache:  \n\\- 4.7 MB per token  \n\\- 32 sequences at 2K" in body, "lists keep lines"


def test_evidence_links_each_quote_to_its_turn(folder: Path) -> None:
    machine = grade_transcript(load_transcript(folder / "project.yaml"))
    ev = next(e for c in machine.categories.values() for s in c.subscores.values() for e in s.evidence)
    at = replay({"file": "project.yaml"})
    block = next(m for m in at.markdown if 'target="_self"' in m.value)
    link = f'<a href="replay?file=project.yaml&amp;turn={ev.turn + 1}" target="_self">turn {ev.turn + 1}</a>'
    assert link in block.value
    assert block.value.count(f"“{inline(ev.quote)}”") <= len(machine.categories), "a quote once per criterion"


def test_no_file_system_path_on_the_page(folder: Path) -> None:
    at = replay({"file": "project.yaml"})
    assert str(folder) not in shown(at) and str(folder.parent) not in shown(at)
    upload = replay(replay_source="upload")
    assert str(folder) not in shown(upload)


def test_override_saved_to_sidecar_reloaded_and_exported(folder: Path, downloads: dict[str, Any]) -> None:
    path = folder / "project.yaml"
    machine = grade_transcript(load_transcript(path))
    cat_id = next(c for c, cat in machine.categories.items() if len(cat.subscores) > 1)
    sub_id, sub = next(iter(machine.categories[cat_id].subscores.items()))
    new_score = 0.0 if sub.score > 0 else float(sub.max)

    at = replay({"file": "project.yaml"})
    at.selectbox(key="replay_ov_category").set_value(cat_id).run()
    at.selectbox(key="replay_ov_sub").set_value(sub_id).run()
    assert at.number_input(key="replay_ov_score").value == sub.score, "the form starts from the machine's score"
    at.number_input(key="replay_ov_score").set_value(new_score)
    at.text_area(key="replay_ov_note").set_value("Turn 3 shows the reasoning the rules missed.")
    at.text_input(key="replay_ov_reviewer").set_value("ana")
    at.button(key="replay_ov_save").click().run()
    assert not at.exception
    assert [s.value for s in at.success] and not at.error

    saved = load_overrides(path)
    assert [(o.category, o.subcriterion, o.score, o.reviewer) for o in saved] == [(cat_id, sub_id, new_score, "ana")]
    assert sidecar_path(path).is_file()

    fresh = replay({"file": "project.yaml"})  # a new browser session: the override comes from the sidecar
    text = shown(fresh)
    assert "Turn 3 shows the reasoning the rules missed." in text
    assert f"(ana); machine {sub.score:g}/{sub.max:g}" in text
    assert inline(criterion_label(cat_id, sub_id)) in text and inline(category_label(cat_id)) in text
    total = next(m for m in fresh.metric if m.label == "Total")
    assert total.delta is not None and "after review" in total.delta

    report = json.loads(downloads["Report (JSON)"])
    got = report["categories"][cat_id]["subscores"][sub_id]
    assert got["score"] == new_score
    assert got["override"]["machine_score"] == sub.score
    assert got["override"]["note"] == "Turn 3 shows the reasoning the rules missed."
    assert report["total"] == pytest.approx(machine.total + new_score - sub.score, abs=0.05)
    assert "| Machine | Reviewer note |" in downloads["Scorecard (Markdown)"]
    assert "Turn 3 shows the reasoning the rules missed. (ana)" in downloads["Scorecard (Markdown)"]


def test_override_can_be_removed(folder: Path) -> None:
    path = folder / "project.yaml"
    at = replay({"file": "project.yaml"})
    at.text_area(key="replay_ov_note").set_value("n")
    at.number_input(key="replay_ov_score").set_value(1.0)
    at.button(key="replay_ov_save").click().run()
    assert load_overrides(path)
    remove = next(b for b in at.button if b.label == "Remove")
    remove.click().run()
    assert not at.exception
    assert load_overrides(path) == []
    assert not sidecar_path(path).exists()


def test_override_without_note_is_not_saved(folder: Path) -> None:
    at = replay({"file": "project.yaml"})
    at.number_input(key="replay_ov_score").set_value(1.0)
    at.button(key="replay_ov_save").click().run()
    assert not at.exception
    assert any("note" in e.value for e in at.error)
    assert not sidecar_path(folder / "project.yaml").exists()


def test_score_input_is_bounded_by_the_sub_criterion_max(folder: Path) -> None:
    machine = grade_transcript(load_transcript(folder / "project.yaml"))
    at = replay({"file": "project.yaml"})
    cat_id = at.selectbox(key="replay_ov_category").value
    sub_id = at.selectbox(key="replay_ov_sub").value
    box = at.number_input(key="replay_ov_score")
    assert box.max == machine.categories[cat_id].subscores[sub_id].max
    assert box.min == 0


def test_upload_is_kept_and_its_override_saved_beside_it(folder: Path) -> None:
    data = (DATA / "good" / "qa.txt").read_bytes()
    at = replay(replay_source="upload")
    at.file_uploader(key="replay_upload").set_value(("qa.txt", data, "text/plain")).run()
    assert not at.exception, at.exception
    kept = list((folder / "uploads").iterdir())
    assert len(kept) == 1 and kept[0].read_bytes() == data and kept[0].name.startswith("qa-")
    at.text_area(key="replay_ov_note").set_value("uploaded transcript reviewed")
    at.number_input(key="replay_ov_score").set_value(0.0)
    at.button(key="replay_ov_save").click().run()
    assert not at.exception
    assert load_overrides(kept[0])[0].note == "uploaded transcript reviewed"


@pytest.mark.parametrize("name", ["yaml_syntax.yaml", "binary.json", "no_labels.txt", "utf16.txt", "missing_role.yaml"])
def test_bad_upload_is_one_error_line(folder: Path, name: str) -> None:
    at = replay(replay_source="upload")
    at.file_uploader(key="replay_upload").set_value((name, (DATA / "bad" / name).read_bytes(), "text/plain")).run()
    assert not at.exception
    assert len(at.error) == 1
    assert name in at.error[0].value and "Traceback" not in at.error[0].value
    assert any("`turns:`" in c.value and "`role`" in c.value and "`content`" in c.value for c in at.caption)
    assert not (folder / "uploads").exists()


def test_an_upload_without_content_names_the_field_it_needs(folder: Path) -> None:
    at = replay(replay_source="upload")
    bad = (DATA / "bad" / "missing_content.yaml").read_bytes()
    at.file_uploader(key="replay_upload").set_value(("missing_content.yaml", bad, "text/yaml")).run()
    assert len(at.error) == 1
    assert "turn has no content" in at.error[0].value and "expected a 'content' field" in at.error[0].value
    assert "'role'" in at.error[0].value and "'at'" in at.error[0].value, "and says which fields the turn has"


def test_only_finished_practice_sessions_are_listed(folder: Path) -> None:
    sessions = folder / "sessions"
    open_one = InterviewEngine(transcript_id="open-one")
    open_one.reply("What interconnect do the nodes have?")
    save_transcript_atomic(open_one.transcript, sessions / "open-one.yaml")
    done = InterviewEngine(transcript_id="done-one")
    done.reply("The weights are 350 GB in fp16.")
    save_transcript_atomic(done.end(), sessions / "done-one.yaml")
    (folder / "project.yaml.overrides.yaml").write_text("overrides: []\n", encoding="utf-8")

    at = replay()
    options = at.selectbox(key="replay_file").options
    assert "sessions/done-one.yaml" in options
    assert "sessions/open-one.yaml" not in options
    assert not any(o.endswith(".overrides.yaml") for o in options)


def test_broken_sidecar_shows_an_error_and_the_machine_report(folder: Path) -> None:
    sidecar_path(folder / "project.yaml").write_text("overrides:\n  - score: [\n", encoding="utf-8")
    at = replay({"file": "project.yaml"})
    assert any("Overrides not applied" in e.value and "overrides.yaml" in e.value for e in at.error)
    assert "Total" in {m.label for m in at.metric}


def test_empty_folder_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_TRANSCRIPTS_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("COACH_SESSIONS_DIR", str(tmp_path / "none" / "sessions"))
    at = replay()
    assert any("No transcripts" in i.value for i in at.info)


@pytest.mark.parametrize("make", ["alias_turns_bomb", "alias_content_bomb"])
def test_alias_bomb_upload_is_refused_and_not_kept(folder: Path, tmp_path: Path, make: str) -> None:
    """The 320 kB and 70 kB bombs: one error line, nothing kept in uploads/ for the next batch to hit."""
    from tests import test_loaders

    path = getattr(test_loaders, make)(tmp_path / "bomb.yaml")
    at = replay(replay_source="upload")
    at.file_uploader(key="replay_upload").set_value(("bomb.yaml", path.read_bytes(), "text/yaml")).run()
    assert not at.exception
    assert len(at.error) == 1 and "bomb.yaml" in at.error[0].value and "expands to" in at.error[0].value
    assert not (folder / "uploads").exists()
