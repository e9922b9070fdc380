"""Content the tests share: where the shipped files live, the topic ids they must define, a small
stand-in for the topics, and closed sessions on fixed dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from backchain.bot.routine.program import Program, load_program
from backchain.bot.understanding.topics import Topic

from backchain.records import SessionRecord

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"
TOPICS_DIR = CONTENT / "topics"
PROGRAM_FILE = CONTENT / "program.yaml"

# The anatomy topics, in the order the biomechanical chain walks them.
ANATOMY_IDS = (
    "foot",
    "soleus",
    "anterior-tibialis",
    "knee",
    "quadriceps",
    "pelvic-tilt",
    "it-band",
    "hamstrings",
    "psoas",
    "piriformis",
    "sciatic-nerve",
    "lower-back",
    "mid-back",
    "pectorals",
)
TOOL_TITLES = {
    "footballer": "Footballer",
    "baller-block": "Baller Block",
    "quadballer": "Quadballer",
    "tp-massage-ball": "TP Massage Ball",
}
# Which kit each product belongs to.
KIT_CONTENTS: dict[str, tuple[str, ...]] = {
    "hip-lower-back-kit": ("footballer", "baller-block"),
    "foot-lower-leg-kit": ("tp-massage-ball", "quadballer"),
}
MONDAY = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def make_topic(topic_id: str, group: str, title: str = "") -> Topic:
    return Topic(
        topic_id, title or topic_id, "summary", "body", (topic_id,), (), (), group, "t.yaml"
    )


def small_topics() -> dict[str, Topic]:
    """The topic ids the program refers to, as content/topics defines them."""
    topics = {tool: make_topic(tool, "kits", title) for tool, title in TOOL_TITLES.items()}
    topics.update({kit: make_topic(kit, "kits") for kit in KIT_CONTENTS})
    topics.update({area: make_topic(area, "anatomy") for area in ANATOMY_IDS})
    return topics


def shipped_program() -> Program:
    """content/program.yaml, checked against the small stand-in topics."""
    return load_program(PROGRAM_FILE, small_topics())


def closed_session(
    day: int,
    phase: str = "release",
    before: int | None = 5,
    after: int | None = 4,
    *,
    done: int = 6,
    too_painful: int = 0,
    status: str = "finished",
    dose: float = 1.0,
    seconds: int | None = None,
    session_id: int | None = None,
) -> SessionRecord:
    """A closed session `day` days after Monday 2 March 2026; 90 seconds a step unless given."""
    started = MONDAY + timedelta(days=day)
    return SessionRecord(
        id=session_id if session_id is not None else day,
        phase=phase,
        status=status,
        dose=dose,
        started_at=started,
        finished_at=started + timedelta(minutes=12),
        pain_before=before,
        pain_after=after,
        done=done,
        too_painful=too_painful,
        seconds=seconds if seconds is not None else done * 90,
        planned_seconds=done * 90,
    )
