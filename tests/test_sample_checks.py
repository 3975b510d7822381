"""Every number the rules find in every sample interview (transcripts/*.yaml), with the checker's verdict,
pinned against a golden file per transcript (tests/golden/checks/<id>.json), plus the facts an expert would
check first, asserted by name.

Regenerate the goldens after a deliberate change with `UPDATE_GOLDEN=1 pytest tests/test_sample_checks.py`,
then read the diff: each verdict must be what an expert would say, or the rules are wrong, not the golden.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from grader.checker import check_claims
from grader.claims import Check
from grader.loaders import load_transcript
from grader.paths import TRANSCRIPTS_DIR
from grader.reading.reader import read_numbers

GOLDEN_DIR = Path(__file__).parent / "golden" / "checks"
SAMPLES = sorted(TRANSCRIPTS_DIR.glob("*.yaml"))
REQUIRED = {
    "calibration_outstanding",
    "calibration_acceptable",
    "calibration_weak",
    "unit_slips",
    "changing_assumptions",
    "l6_strong",
    "l5_solid",
    "l4_basic",
    "below_l4",
}
FIELDS = ("turn", "quantity", "claimed", "unit", "verdict", "expected", "consistent_with_earlier_error")


def checks_of(sample_id: str) -> list[Check]:
    transcript = load_transcript(TRANSCRIPTS_DIR / f"{sample_id}.yaml")
    return check_claims(read_numbers(transcript))


def rows(checks: list[Check]) -> list[dict]:
    return [{k: getattr(c, k) for k in FIELDS} for c in checks]


def test_every_required_sample_exists() -> None:
    assert {p.stem for p in SAMPLES} >= REQUIRED


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_golden(path: Path) -> None:
    transcript = load_transcript(path)
    assert transcript.id == path.stem
    got = rows(check_claims(read_numbers(transcript)))
    golden = GOLDEN_DIR / f"{path.stem}.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        lines = ",\n".join(" " + json.dumps(row, ensure_ascii=False) for row in got)  # one check per line
        golden.write_text(f"[\n{lines}\n]\n" if got else "[]\n", encoding="utf-8")
    assert golden.exists(), f"no golden for {path.stem}: run with UPDATE_GOLDEN=1 and review it"
    assert got == json.loads(golden.read_text(encoding="utf-8"))


def test_no_golden_without_a_sample() -> None:
    assert {p.stem for p in GOLDEN_DIR.glob("*.json")} == {p.stem for p in SAMPLES}


def find(checks: list[Check], quantity: str, claimed: float, unit: str | None = None, turn: int | None = None) -> Check:
    hits = [
        c
        for c in checks
        if c.quantity == quantity and c.claimed == claimed and unit in (None, c.unit) and turn in (None, c.turn)
    ]
    assert len(hits) == 1, [(c.quantity, c.claimed, c.unit) for c in checks]
    return hits[0]


# --- the facts an expert checks first, by name -----------------------------------------------------------


def test_calibration_outstanding() -> None:
    checks = checks_of("calibration_outstanding")
    assert find(checks, "weights_total", 350).verdict == "correct"
    assert find(checks, "weights_per_gpu", 43.75).verdict == "correct"
    wrong_total = find(checks, "weights_total", 175)
    assert wrong_total.verdict == "incorrect"
    assert "parameters used as bytes" in (wrong_total.diagnosis or "")
    premise = find(checks, "weights_per_gpu", 21.875)
    assert premise.verdict == "incorrect" and premise.consistent_with_earlier_error
    assert "premise wrong" in (premise.diagnosis or "") and "the arithmetic is right" in (premise.diagnosis or "")
    assert premise.expected == 43.75
    free = find(checks, "free_after_weights", 50)
    assert free.verdict == "incorrect" and free.consistent_with_earlier_error
    assert "weights total is 350 GB, not 175 GB" in (free.diagnosis or "")
    assert find(checks, "free_after_weights", 20).verdict == "incorrect"  # 80 - 43.75 leaves 36 GB, not ~20
    comm = find(checks, "tp_comm_wire_time", 10)  # ~1 MB x 192 all-reduces at 600 GB/s is ~0.19 ms, not 10 ms
    assert comm.verdict == "incorrect" and comm.expected is not None and comm.expected < 1
    assert find(checks, "allreduce_ring_bytes", 1).verdict == "correct"  # ~1 MB: the ring bytes at batch 32
    bubble = find(checks, "bubble", 10)
    assert bubble.verdict == "correct" and "(p-1)/(m+p-1)" in (bubble.convention or "")
    latency = find(checks, "decode_latency", 80)
    assert latency.verdict == "correct" and "TP4 x PP2" in (latency.convention or "")  # above that floor
    assert find(checks, "nvlink_bandwidth", 600).verdict == "correct"


def test_calibration_acceptable_and_weak() -> None:
    acceptable = checks_of("calibration_acceptable")
    assert {c.verdict for c in acceptable} == {"correct"}
    said = [(c.quantity, c.claimed) for c in acceptable]
    assert {("weights_total", 350), ("weights_per_gpu", 44), ("gpu_memory", 80)} <= set(said)
    weak = checks_of("calibration_weak")
    assert "parameters used as bytes" in (find(weak, "weights_total", 175).diagnosis or "")
    per_gpu = find(weak, "weights_per_gpu", 22)
    assert per_gpu.verdict == "incorrect" and per_gpu.consistent_with_earlier_error


def test_unit_slips() -> None:
    checks = checks_of("unit_slips")
    assert "unit slip: Gb is bits" in (find(checks, "weights_total", 350, "Gb").diagnosis or "")
    assert (find(checks, "weights_total", 350, "GiB").convention or "").endswith("a GB figure labelled GiB")
    assert find(checks, "weights_total", 326, "GiB").verdict == "correct"
    assert "unit slip (x1000)" in (find(checks, "weights_per_gpu", 43.75).diagnosis or "")
    ib, again = [c for c in checks if c.quantity == "ib_bandwidth" and c.claimed == 200]
    assert again.consistent_with_earlier_error and not ib.consistent_with_earlier_error  # one mistake, charged once
    assert ib.verdict == "incorrect" and "read as 200 GB/s" in (ib.diagnosis or "")
    handoff = find(checks, "pp_handoff_time", 2)
    assert handoff.verdict == "incorrect" and handoff.consistent_with_earlier_error
    assert "is 25 GB/s, not 200 GB/s" in (handoff.diagnosis or "")
    assert find(checks, "kv_total", 309, "GiB").verdict == "correct"


def test_changing_assumptions_every_figure_right_for_its_assumptions() -> None:
    checks = checks_of("changing_assumptions")
    assert "incorrect" not in {c.verdict for c in checks}
    # what is left unverifiable is the candidate's own choices (batch 16, 4K context), never a computed figure
    assert {c.diagnosis for c in checks if c.verdict == "unverifiable"} == {"an input the candidate chose"}
    int8 = find(checks, "weights_per_gpu", 21.875, turn=7)
    assert int8.assumptions["weight_precision"] == "int8"
    kv = find(checks, "kv_total", 309, "GB", turn=3)
    assert (kv.assumptions["batch"], kv.assumptions["context"]) == (32, 2048)
    late = [c for c in checks if c.turn == 7 and c.quantity == "kv_total"]
    assert [(c.claimed, c.assumptions["batch"], c.assumptions["context"]) for c in late] == [(309, 16, 4096)]
    assert round(find(checks, "decode_floor", 10.7).expected or 0, 2) == 10.73  # INT8 weights over 8 GPUs at 2 TB/s
    assert find(checks, "kv_per_gpu", 19.3).assumptions["kv_precision"] == "fp8"


def test_l6_strong_is_right_throughout() -> None:
    checks = checks_of("l6_strong")
    assert len(checks) >= 50
    assert "incorrect" not in {c.verdict for c in checks}
    assert sum(c.verdict == "correct" for c in checks) >= 0.8 * len(checks)
    total = find(checks, "per_gpu_total", 87.4)
    assert total.verdict == "correct"  # and the candidate said it does not fit, which is right
    assert find(checks, "decode_floor", 43).assumptions["tp"] == 4  # "the floor for one sequence ... with TP4 x PP2"
    assert {round(c.expected or 0, 1) for c in checks if c.quantity == "tp_volume_per_step" and c.claimed == 113} == {
        113.2
    }
    assert round(find(checks, "tp_volume_per_token", 7).expected or 0, 3) == 7.078


def test_l5_solid_kv_mistake_and_its_consequences() -> None:
    checks = checks_of("l5_solid")
    root = find(checks, "kv_per_token", 2.36)
    assert root.verdict == "incorrect" and "K and V: the factor 2 is missing" in (root.diagnosis or "")
    total = find(checks, "weights_plus_kv_per_gpu", 68)
    assert total.verdict == "incorrect" and total.consistent_with_earlier_error
    assert "does not fit" in (total.diagnosis or "")
    volume = find(checks, "tp_volume_per_step", 75)
    assert volume.verdict == "correct" and "payload" in (volume.convention or "")  # the reduced tensor, not ring bytes
    assert find(checks, "tp_comm_wire_time", 0.13).verdict == "correct"  # 75 MB at 600 GB/s


def test_l4_basic() -> None:
    checks = checks_of("l4_basic")
    assert find(checks, "weights_total", 350).verdict == "correct"
    assert find(checks, "kv_per_gpu", 10).verdict == "incorrect"
    assert find(checks, "decode_latency", 100).verdict == "correct"


def test_below_l4_ten_ms_is_below_the_floor() -> None:
    checks = checks_of("below_l4")
    ten = find(checks, "decode_latency", 10)
    assert ten.verdict == "incorrect" and not ten.consistent_with_earlier_error
    # the floor reads the weights and the 1K prompts' KV of 32 sequences; the weights alone take 21.46 ms
    assert "below the physical floor" in (ten.diagnosis or "") and "21.46 ms for the weights alone" in (
        ten.diagnosis or ""
    )
    assert "parameters used as bytes" in (find(checks, "weights_total", 175).diagnosis or "")
    assert find(checks, "weights_total", 87.5).verdict == "correct"  # INT4, said right
