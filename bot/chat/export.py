"""/export: the person's own records as plainly named CSV files in one zip, and a summary image.

No internal fields leave the bot: no dose factors, no matcher scores, no rule ids. Files are made
in a fresh folder under the user's own directory; the Telegram adapter removes them once sent,
and /forget removes whatever is left.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime, tzinfo
from pathlib import Path

from backchain.bot.chat.replies import Outcome, Reply
from backchain.bot.chat.services import Services
from backchain.bot.chat.session import user_zone
from backchain.bot.routine.plan import SessionPlan
from backchain.storage.users import User

SESSION_COLUMNS = (
    "session",
    "started",
    "finished",
    "status",
    "phase",
    "pain_before_0_10",
    "pain_after_0_10",
    "steps_done",
    "steps_skipped",
    "steps_too_painful",
    "real_minutes_on_steps",
    "planned_minutes",
)
STEP_COLUMNS = (
    "session",
    "step",
    "area",
    "answer",
    "real_seconds",
    "planned_seconds",
    "answered_at",
)
QUESTION_COLUMNS = ("when", "kind", "text", "topic_found", "warning_level")
OUTCOME_COLUMNS = ("when", "scale", "item", "score_0_10", "what_10_means")
HEALTH_COLUMNS = ("condition", "side", "added")
ANSWER_WORDS = {"done": "done", "skipped": "skipped", "too-painful": "too painful"}


def user_files(services: Services, user: User) -> Path:
    """The one directory that ever holds this user's files."""
    return services.files_dir / str(user.id)


def new_workdir(services: Services, user: User) -> Path:
    folder = user_files(services, user)
    folder.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="export-", dir=folder))


def remove_user_files(services: Services, user_id: int) -> None:
    """Whatever files of the user still exist: exports and charts not yet cleaned up."""
    shutil.rmtree(services.files_dir / str(user_id), ignore_errors=True)


def _local(moment: datetime | None, zone: tzinfo) -> str:
    return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _blank(value: object) -> object:
    return "" if value is None else value


def _write(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def _session_rows(services: Services, user: User, zone: tzinfo) -> tuple[list, list]:
    history = {r.id: r for r in services.sessions.history(user.id)}
    numbers: dict[int, int] = {}
    titles: dict[int, dict[int, str]] = {}
    sessions = []
    for number, stored in enumerate(services.sessions.sessions(user.id), start=1):
        numbers[stored.id] = number
        plan = SessionPlan.from_json(stored.plan)
        titles[stored.id] = {step.index: step.title for step in plan.steps}
        record = history.get(stored.id)
        sessions.append(
            (
                number,
                _local(stored.started_at, zone),
                _local(stored.finished_at, zone),
                stored.status,
                stored.phase,
                _blank(stored.pain_before),
                _blank(stored.pain_after),
                record.done if record else "",
                record.skipped if record else "",
                record.too_painful if record else "",
                round(record.seconds / 60, 1) if record else "",
                round(record.planned_seconds / 60, 1) if record else "",
            )
        )
    steps = [
        (
            numbers.get(event.session_id, ""),
            event.step_index + 1,
            titles.get(event.session_id, {}).get(event.step_index, event.step_id),
            ANSWER_WORDS.get(event.outcome, event.outcome),
            _blank(event.active_seconds),
            event.planned_seconds,
            _local(event.at, zone),
        )
        for event in services.sessions.events(user.id)
    ]
    return sessions, steps


def _question_rows(services: Services, user: User, zone: tzinfo) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for row in services.questions.for_user(user.id):
        topic = services.content.topics.get(str(row["topic"])) if row["topic"] else None
        asked = datetime.fromisoformat(str(row["asked_at"]))
        rows.append(
            (
                _local(asked, zone),
                "question",
                row["text"],
                topic.title if topic else "",
                row["red_flag_level"] or "",
            )
        )
    for event in services.questions.red_flags_for_user(user.id):
        rows.append((_local(event.at, zone), "warning shown", "", "", event.level))
    return sorted(rows, key=lambda row: str(row[0]))


def _outcome_rows(services: Services, user: User, zone: tzinfo) -> list[tuple[object, ...]]:
    msg = services.content.messages
    names = {str(a.position): a.text for a in services.outcomes.activities(user.id)}
    rows: list[tuple[object, ...]] = []
    for score in services.outcomes.scores(user.id):
        if score.scale == "psfs":
            item, meaning = names.get(score.item, score.item), msg("export_psfs_ten")
        else:
            item, meaning = msg(f"peg_item_{score.item}"), msg("export_peg_ten")
        rows.append((_local(score.at, zone), score.scale.upper(), item, score.score, meaning))
    return rows


def _health_rows(services: Services, user: User, zone: tzinfo) -> list[tuple[object, ...]]:
    labels = services.content.precautions.conditions
    rows: list[tuple[object, ...]] = []
    for condition, side, added_at in services.health.rows_for_export(user.id):
        known = labels.get(condition)
        added = _local(datetime.fromisoformat(added_at), zone) if added_at else ""
        rows.append((known.label if known else condition, side or "", added))
    return rows


def build_export(services: Services, user: User, folder: Path) -> Path:
    """The zip of the user's CSV files, written in `folder`."""
    zone = user_zone(user)
    sessions, steps = _session_rows(services, user, zone)
    files = [
        _write(folder / "sessions.csv", SESSION_COLUMNS, sessions),
        _write(folder / "steps.csv", STEP_COLUMNS, steps),
        _write(
            folder / "questions-and-warnings.csv",
            QUESTION_COLUMNS,
            _question_rows(services, user, zone),
        ),
        _write(folder / "health-screen.csv", HEALTH_COLUMNS, _health_rows(services, user, zone)),
        _write(folder / "outcome-scores.csv", OUTCOME_COLUMNS, _outcome_rows(services, user, zone)),
    ]
    day = services.clock().astimezone(zone).strftime("%Y-%m-%d")
    archive = folder / f"backchain-{day}.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path in files:
            bundle.write(path, arcname=path.name)
    for path in files:
        path.unlink()
    return archive


def export(services: Services, user: User) -> Outcome:
    """The zip of CSV files and the one-page summary image, both temporary."""
    msg = services.content.messages
    folder = new_workdir(services, user)
    archive = build_export(services, user, folder)
    outcome = Outcome().say(Reply(msg("export_ready"), document=archive, temporary=True))
    from backchain.bot.chat.progress import summary_image

    image = summary_image(services, user, folder / "summary.png")
    if image is not None:
        outcome.say(Reply(msg("export_summary_image"), image=image, temporary=True))
    return outcome
