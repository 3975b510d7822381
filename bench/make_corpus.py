"""Generate synthetic transcripts for the benchmarks by recombining real turns, with seeded variation.

    python bench/make_corpus.py              # bench/out/corpus_300 and bench/out/corpus_10000, and long_3000.yaml
    python bench/make_corpus.py -n 500       # bench/out/corpus_500
    python bench/make_corpus.py --long 3000  # only the long transcript (>= 3,000 words)

Source turns are the interviewer turns and the candidate paragraphs of transcripts/*.yaml and
tests/data/transcripts/good/*, plus a few sentences of serving arithmetic (some right, some wrong) so the checker
has numbers to work on. Each transcript draws 2-8 question/answer pairs, an answer being 1-2 paragraphs;
numbers in a candidate turn are sometimes scaled (x0.5, x2, x1.024, x10) to produce wrong figures; a file is
YAML, JSON or labelled text in a 6:3:1 ratio. The same seed gives the same files; a corpus that already exists
with the same parameters and source turns is not rewritten.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import sys
import time
from pathlib import Path

import _common
from _common import OUT, ROOT

GENERATOR_VERSION = "2"
EXTRA_CANDIDATE = [
    "The weights are 175B x 2 bytes = 350 GB in fp16, so they need at least five 80 GB GPUs.",
    "With TP=8 inside the node each GPU holds about 43.75 GB of weights.",
    "The KV cache is 2 x 96 layers x 12288 x 2 bytes, about 4.7 MB per token.",
    "For 32 sequences at 2048 tokens that is roughly 300 GB of KV cache, so one node is not enough.",
    "I'd use 2-way pipeline parallelism across two nodes and 8-way tensor parallelism inside each node.",
    "The pipeline bubble with 8 micro-batches and 2 stages is (p-1)/m = 12.5%.",
    "Each all-reduce moves 2(n-1)/n of the message, so about 1.75x the activation size per layer.",
    "Decode is memory bound: reading 43.75 GB per GPU at 2 TB/s takes about 22 ms per token.",
    "I'd replicate the whole pipeline for failover and keep a warm standby node.",
    "NVLink gives 600 GB/s per GPU, InfiniBand only 25 GB/s, so tensor parallelism stays inside a node.",
    "We can quantise to int8 and halve the weights to 175 GB.",
    "I would monitor p99 latency, GPU memory headroom and NCCL timeouts.",
]
EXTRA_INTERVIEWER = [
    "How much memory do the weights need, in total and on each GPU of your layout?",
    "What does the KV cache cost at 32 concurrent sequences?",
    "How would you split the model across the 8 GPUs in a node?",
    "What happens when a GPU fails?",
    "How much traffic does tensor parallelism put on the links?",
    "What would you monitor in production?",
]
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\w.]*\d)")


def source_turns() -> tuple[list[str], list[str]]:
    from grader.loaders import load_transcript

    files = sorted((ROOT / "transcripts").glob("*.yaml")) + sorted((ROOT / "tests/data/transcripts/good").iterdir())
    interviewer, candidate = list(EXTRA_INTERVIEWER), list(EXTRA_CANDIDATE)
    for path in files:
        for turn in load_transcript(path).turns:
            if turn.role == "interviewer":
                interviewer.append(turn.content.strip())
            else:  # paragraphs, so answers recombine at a finer grain and stay interview-sized
                candidate += [p.strip() for p in re.split(r"\n\s*\n", turn.content) if p.strip()]
    return sorted(set(interviewer)), sorted(set(candidate))


def vary(text: str, rng: random.Random) -> str:
    """Scale some numbers (a wrong figure for the checker), keep the rest."""

    def scale(m: re.Match[str]) -> str:
        if rng.random() > 0.15:
            return m.group(1)
        value = float(m.group(1)) * rng.choice((0.5, 2.0, 1.024, 10.0))
        return f"{value:g}"

    return _NUMBER.sub(scale, text)


def make_turns(rng: random.Random, pools: tuple[list[str], list[str]], pairs: int) -> list[tuple[str, str]]:
    interviewer, candidate = pools
    turns = [("interviewer", interviewer[0] if "175" in interviewer[0] else rng.choice(interviewer))]
    for i in range(pairs):
        if i:
            turns.append(("interviewer", rng.choice(interviewer)))
        parts = [vary(rng.choice(candidate), rng) for _ in range(rng.randint(1, 2))]
        turns.append(("candidate", "\n\n".join(parts)))
    return turns


def write_transcript(path_stem: Path, tid: str, turns: list[tuple[str, str]], kind: str) -> Path:
    if kind == "txt":
        path = path_stem.with_suffix(".txt")
        body = "\n".join(f"{'Interviewer' if r == 'interviewer' else 'Candidate'}: {c}" for r, c in turns)
        path.write_text(body + "\n", encoding="utf-8")
        return path
    data = {"id": tid, "scenario": "distributed-llm-serving", "turns": [{"role": r, "content": c} for r, c in turns]}
    if kind == "json":
        path = path_stem.with_suffix(".json")
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        return path
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path = path_stem.with_suffix(".yaml")
    path.write_text(yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
    return path


def make_corpus(n: int, seed: int = 0) -> Path:
    """bench/out/corpus_<n>/ with n transcripts; reused when already generated with the same parameters."""
    out = OUT / f"corpus_{n}"
    stamp = out / ".params.json"
    pools = source_turns()
    pool_hash = hashlib.sha256(json.dumps(pools).encode()).hexdigest()[:16]
    params = {"n": n, "seed": seed, "generator": GENERATOR_VERSION, "sources": pool_hash}
    if stamp.is_file() and json.loads(stamp.read_text(encoding="utf-8")) == params:
        return out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for i in range(n):
        rng = random.Random(seed * 1_000_003 + i)
        kind = rng.choices(("yaml", "json", "txt"), weights=(6, 3, 1))[0]
        tid = f"syn-{i:05d}"
        write_transcript(out / tid, tid, make_turns(rng, pools, rng.randint(2, 8)), kind)
    stamp.write_text(json.dumps(params), encoding="utf-8")
    return out


def make_long(words: int = 3000, seed: int = 0) -> Path:
    """bench/out/long_<words>.yaml: one interview of at least `words` words."""
    path = OUT / f"long_{words}.yaml"
    rng = random.Random(seed)
    pools = source_turns()
    turns = make_turns(rng, pools, 1)
    while sum(len(c.split()) for _, c in turns) < words:
        turns.append(("interviewer", rng.choice(pools[0])))
        turns.append(("candidate", "\n\n".join(vary(rng.choice(pools[1]), rng) for _ in range(3))))
    OUT.mkdir(parents=True, exist_ok=True)
    write_transcript(path.with_suffix(""), f"long-{words}", turns, "yaml")
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, action="append", help="corpus size (repeatable); default 300 and 10000")
    p.add_argument("--long", type=int, metavar="WORDS", help="only write the long transcript of WORDS words")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON (for run_all.py)")
    args = p.parse_args(argv)
    results = []
    if args.long:
        sizes: list[int] = []
    else:
        sizes = args.n or [300, 10_000]
    for n in sizes:
        t0 = time.perf_counter()
        out = make_corpus(n, args.seed)
        files = [f for f in out.iterdir() if not f.name.startswith(".")]
        words = sum(len(f.read_text(encoding="utf-8").split()) for f in files)
        mb = sum(f.stat().st_size for f in files) / 1e6
        print(
            f"corpus_{n}: {len(files)} files, {words / len(files):.0f} words each on average (whole file), {mb:.1f} MB "
            f"({time.perf_counter() - t0:.1f} s) -> {out.relative_to(ROOT)}"
        )
        results.append(_common.result("make_corpus", f"corpus_{n} mean words", words / len(files), "words"))
    long_words = args.long or 3000
    path = make_long(long_words, args.seed)
    from grader.loaders import load_transcript

    t = load_transcript(path)
    print(f"long transcript: {t.word_count()} words, {len(t.turns)} turns -> {path.relative_to(ROOT)}")
    results.append(_common.result("make_corpus", "long transcript", t.word_count(), "words", f"{len(t.turns)} turns"))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
