"""The one place that owns the schema. Never edit an applied migration: add a new one."""

from __future__ import annotations

from backchain.storage._sqlite_utils import Database, Migrations
from backchain.storage.times import canonical

from backchain.text import normalize

migrations = Migrations("backchain")


@migrations()
def m001_users_and_questions(db: Database) -> None:
    db.table("users").create(
        {
            "id": int,  # Telegram user id (the console uses 0)
            "language": str,
            "owned_tools": str,  # JSON list of tool topic ids
            "focus": str,  # hip | lower-back | knee | sciatica | general
            "onboarded": int,
            "timezone": str,  # IANA zone name
            "created_at": str,
        },
        pk="id",
        not_null={"language", "owned_tools", "onboarded", "timezone", "created_at"},
        defaults={"language": "en", "owned_tools": "[]", "onboarded": 0, "timezone": "UTC"},
    )
    # Conversation state: a small JSON document per user (what the last prompt was waiting for).
    db.table("conversation_state").create(
        {"user_id": int, "state": str, "updated_at": str},
        pk="user_id",
        foreign_keys=[("user_id", "users", "id")],
    )
    db.table("questions").create(
        {
            "id": int,
            "user_id": int,
            "text": str,
            "topic": str,
            "score": float,
            "red_flag_level": str,
            "asked_at": str,
        },
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
    )
    db.table("questions").create_index(["user_id"])
    db.table("unanswered").create(
        {"id": int, "user_id": int, "text": str, "normalized": str, "asked_at": str},
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
    )
    db.table("unanswered").create_index(["normalized"])
    db.table("red_flag_events").create(
        {"id": int, "user_id": int, "level": str, "rule": str, "at": str},
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
    )


@migrations()
def m002_sessions_and_reminders(db: Database) -> None:
    db.table("sessions").create(
        {
            "id": int,
            "user_id": int,
            "phase": str,
            "plan": str,  # JSON: the personalised steps, frozen when the session starts
            "dose": float,  # multiplier applied to step durations
            "current_step": int,
            "status": str,  # pain-check | active | post-check | finished | abandoned
            "pain_before": int,
            "pain_after": int,
            "started_at": str,
            "finished_at": str,
        },
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
        not_null={"user_id", "phase", "plan", "dose", "current_step", "status", "started_at"},
    )
    db.table("sessions").create_index(["user_id", "status"])
    db.table("step_events").create(
        {
            "id": int,
            "session_id": int,
            "user_id": int,
            "step_index": int,
            "step_id": str,
            "outcome": str,  # done | skipped | too-painful
            "seconds": int,
            "at": str,
        },
        pk="id",
        foreign_keys=[("session_id", "sessions", "id"), ("user_id", "users", "id")],
    )
    # A double tap on "done" must log once.
    db.table("step_events").create_index(["session_id", "step_index"], unique=True)
    db.table("reminders").create(
        {
            "user_id": int,
            "chat_id": int,
            "local_time": str,  # "HH:MM" in the user's zone
            "timezone": str,
            "enabled": int,
            "next_due": int,  # UTC epoch seconds of the next send (text since m003)
            "last_sent_at": int,
            "skip_date": str,  # local date (YYYY-MM-DD) the user chose to skip
        },
        pk="user_id",
        foreign_keys=[("user_id", "users", "id")],
        not_null={"chat_id", "local_time", "timezone", "enabled", "next_due"},
    )
    # The periodic tick selects due reminders with this index.
    db.table("reminders").create_index(["enabled", "next_due"])


@migrations()
def m003_health_screen(db: Database) -> None:
    # One row per condition a person confirmed; `side` for sided ones (a new hip or knee).
    db.table("health_conditions").create(
        {"user_id": int, "condition": str, "side": str, "added_at": str},
        pk=("user_id", "condition"),
        foreign_keys=[("user_id", "users", "id")],
        not_null={"added_at"},
    )
    db.table("health_screen").create(
        {"user_id": int, "screened_at": str, "doctor_ok_at": str},
        pk="user_id",
        foreign_keys=[("user_id", "users", "id")],
    )


@migrations()
def m004_true_step_times(db: Database) -> None:
    """Planned and real seconds kept apart; the moment the current step was shown.

    Rows logged before this migration only knew the planned time: it moves to `planned_seconds`
    and their real time stays unknown (NULL) rather than pretending.
    """
    db.table("step_events").add_column("planned_seconds", int)
    db.table("step_events").add_column("active_seconds", int)
    db.execute("update step_events set planned_seconds = seconds")
    db.table("sessions").add_column("step_shown_at", str)


@migrations()
def m005_outcome_scores(db: Database) -> None:
    """What the person can do: PSFS activities they named, and PSFS and PEG scores over time."""
    db.table("psfs_activities").create(
        {"id": int, "user_id": int, "position": int, "activity": str, "added_at": str},
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
        not_null={"user_id", "position", "activity", "added_at"},
    )
    db.table("psfs_activities").create_index(["user_id", "position"], unique=True)
    db.table("outcome_scores").create(
        {
            "id": int,
            "user_id": int,
            "scale": str,  # psfs | peg
            "item": str,  # psfs: the activity's position "1".."3"; peg: pain | enjoyment | activity
            "score": int,  # 0-10
            "at": str,
        },
        pk="id",
        foreign_keys=[("user_id", "users", "id")],
        not_null={"user_id", "scale", "item", "score", "at"},
    )
    db.table("outcome_scores").create_index(["user_id", "at"])


@migrations()
def m006_routine_settings(db: Database) -> None:
    """What the reminder does on rest days, and the day of the optional weekly summary."""
    db.table("routine_settings").create(
        {
            "user_id": int,
            "rest_day_note": int,  # 1: a short note on rest days; 0: stay quiet
            "summary_weekday": int,  # 0 = Monday .. 6 = Sunday; NULL: no weekly summary
            "checked_after_red_flag_at": str,  # "a doctor has checked me" after a red flag
        },
        pk="user_id",
        foreign_keys=[("user_id", "users", "id")],
        not_null={"rest_day_note"},
        defaults={"rest_day_note": 0},
    )


# Every column that holds an instant, by table: all ISO 8601 text in UTC (storage.times).
INSTANT_COLUMNS = {
    "users": ("created_at",),
    "conversation_state": ("updated_at",),
    "questions": ("asked_at",),
    "unanswered": ("asked_at",),
    "red_flag_events": ("at",),
    "sessions": ("started_at", "finished_at", "step_shown_at"),
    "step_events": ("at",),
    "reminders": ("next_due", "last_sent_at"),
    "health_conditions": ("added_at",),
    "health_screen": ("screened_at", "doctor_ok_at"),
    "psfs_activities": ("added_at",),
    "routine_settings": ("checked_after_red_flag_at",),
    "outcome_scores": ("at",),
}


@migrations()
def m007_one_time_encoding(db: Database) -> None:
    """Every instant as UTC ISO 8601 text: reminders held epoch seconds, the question log and
    users held local offsets and microseconds."""
    for table, columns in INSTANT_COLUMNS.items():
        keys = db.table(table).pks
        for row in db.query(f"SELECT {', '.join([*keys, *columns])} FROM [{table}]"):
            encoded = {column: canonical(row[column]) for column in columns}
            if any(encoded[column] != row[column] for column in columns):
                db.table(table).update([row[key] for key in keys], encoded)
    db.table("reminders").transform(types={"next_due": str, "last_sent_at": str})


@migrations()
def m008_unanswered_grouped_by_the_shared_normaliser(db: Database) -> None:
    """Unanswered questions group by `backchain.text.normalize`, as the question log now
    writes them: punctuation and accents no longer split a group."""
    for row_id, text in db.execute("SELECT id, text FROM unanswered").fetchall():
        db.execute("UPDATE unanswered SET normalized = ? WHERE id = ?", [normalize(text), row_id])


@migrations()
def m009_conversation_context(db: Database) -> None:
    # The thread of the conversation: what a follow-up such as "how long?" refers to.
    db.table("conversation_context").create(
        {
            "user_id": int,
            "topic": str,  # the topic in hand
            "facet": str,  # the part of it answered last
            "step_topic": str,  # the topic of the session step in hand
            "red_flag_level": str,  # the red-flag advice given last
            "red_flag_rule": str,
            "updated_at": str,  # an instant; older than the memory window means forgotten
        },
        pk="user_id",
        foreign_keys=[("user_id", "users", "id")],
    )


@migrations()
def m010_update_inbox_and_reminder_outcomes(db: Database) -> None:
    # Incoming Telegram updates, written before Telegram is told they arrived and marked done
    # once handled: a crash in between leaves them here to be handled on the next start.
    db.table("update_inbox").create(
        {
            "update_id": int,
            "payload": str,  # the update's JSON, text already made valid; "{}" once handled
            "status": str,  # pending | done | skipped
            "received_at": str,  # an instant
            "done_at": str,  # an instant
        },
        pk="update_id",
        not_null={"payload", "status", "received_at"},
    )
    db.table("update_inbox").create_index(["status"])
    # What each reminder tick did, counted per UTC day, for `backchain stats`.
    db.table("reminder_outcomes").create(
        {"day": str, "status": str, "count": int},  # status: sent | failed | blocked | skipped
        pk=("day", "status"),
        not_null={"count"},
    )
