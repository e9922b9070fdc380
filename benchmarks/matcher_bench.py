"""Accuracy of the question matcher on the labelled question files, and the latency of reading
a message through the one seam, `understand(text, context)`, with a topic in hand.

usage: python -m benchmarks.matcher_bench [-v] [--calls N] [FILE.tsv ...]

Without files it reads the shared development set (when present) and tests/data/*.tsv. Red-flag
lines are skipped: they belong to the red-flag screen, not to the matcher.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from backchain.bot.chat.reading import build_understander
from backchain.bot.content import build_matcher, load_content
from backchain.bot.understanding.matcher import Matcher
from backchain.bot.understanding.understand import Context, Understander

ROOT = Path(__file__).resolve().parent.parent
DEV_SET = Path("/work/shared/eval/questions.tsv")
ANSWERS = "matcher_answers.tsv"


def read_questions(path: Path, topic_ids: set[str]) -> list[tuple[frozenset[str], str]]:
    """(acceptable topic ids or {'NONE'}, question) for every line labelled with topics.

    Red-flag lines and files of another kind (labels that are not topic ids) are skipped.
    """
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or "\t" not in line:
            continue
        expected, question = line.split("\t", 1)
        labels = frozenset(expected.split(","))
        if labels <= topic_ids | {"NONE"}:
            rows.append((labels, question))
    return rows


def score_file(
    matcher: Matcher, rows: list[tuple[frozenset[str], str]], path: Path, verbose: bool
) -> None:
    counts = {"in-scope": [0, 0], "out-of-scope": [0, 0]}
    ambiguous = 0
    for labels, question in rows:
        result = matcher.match(question)
        kind = "out-of-scope" if labels == {"NONE"} else "in-scope"
        ok = result.topic is None if kind == "out-of-scope" else result.topic in labels
        counts[kind][0] += ok
        counts[kind][1] += 1
        ambiguous += result.ambiguous
        if verbose and not ok:
            want = ",".join(sorted(labels))
            print(
                f"  MISS want {want:34s} got {result.topic!s:22s} {result.score:5.1f} | {question}"
            )
    parts = [f"{k} {good}/{n} {100 * good / max(n, 1):.1f}%" for k, (good, n) in counts.items()]
    print(f"{path}: {'; '.join(parts)}; ambiguous {ambiguous}")


# The thread a follow-up resolves against: every question is read with a topic in hand.
IN_HAND = Context(topic="piriformis", facet="what")


def measure_latency(understander: Understander, questions: list[str], calls: int) -> None:
    """Wall time and this thread's CPU time: on a busy machine the wall-time tail is mostly
    waiting for a core, and the CPU time is what the reading itself costs."""
    wall, cpu = [], []
    for i in range(calls):
        question = questions[i % len(questions)]
        start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
        understander.understand(question, IN_HAND)
        cpu.append((time.thread_time_ns() - start_cpu) / 1000)
        wall.append((time.perf_counter_ns() - start) / 1000)
    for name, timings in (("wall", wall), ("cpu", cpu)):
        timings.sort()

        def pct(p: float, timings: list[float] = timings) -> float:
            return timings[min(len(timings) - 1, int(p * len(timings)))]

        print(
            f"{name} latency over {calls} calls (us): p50 {pct(0.50):.0f}  p95 {pct(0.95):.0f}  "
            f"p99 {pct(0.99):.0f}  max {timings[-1]:.0f}  mean {statistics.fmean(timings):.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = parser.parse_args()
    files = args.files or [
        *([DEV_SET] if DEV_SET.is_file() else []),
        *sorted((ROOT / "tests" / "data").glob("*.tsv")),
        *sorted((ROOT / "tests" / "data" / "conversation").glob("questions*.tsv")),
    ]
    # The recorded answers are the matcher's own, not labels: nothing to measure there.
    files = [f for f in files if f.name != ANSWERS]
    start = time.perf_counter()
    content = load_content(ROOT / "content")
    topics = content.topics
    matcher = build_matcher(content)
    print(f"build: {(time.perf_counter() - start) * 1000:.1f} ms for {len(topics)} topics")

    questions = []
    for path in files:
        rows = read_questions(path, set(topics))
        if rows:
            score_file(matcher, rows, path, args.verbose)
            questions += [q for _, q in rows]

    cold = build_understander(content, build_matcher(content))
    if questions:
        print("understand(text, context), first pass, typo cache empty:")
        measure_latency(cold, questions, len(questions))
        # The bot prepares its reader right after it starts (between messages); measured so.
        prepared = build_understander(content, matcher)
        patterns = prepared.warm()
        print(f"understand(text, context), repeated questions, {patterns} patterns prepared:")
        measure_latency(prepared, questions, args.calls)


if __name__ == "__main__":
    main()
