"""The `backchain` command line: a thin layer over the core."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backchain.bot.adapters import collector
from backchain.bot.errors import BackchainError

# The core is imported inside the commands, once `main` has turned the collector off.
if TYPE_CHECKING:
    from backchain.bot.chat.replies import Reply
    from backchain.bot.understanding.understand import Context, Understander, Understanding

EXIT_USAGE = 2


def _content_dir(args: argparse.Namespace) -> Path | None:
    return Path(args.content) if getattr(args, "content", None) else None


class Asker:
    """Answers questions as the chat does: `backchain ask` prints what the chat would say."""

    def __init__(self, content_dir: Path | None):
        # From the content module, not chat.services: that one opens the storage layer, whose
        # import alone (sqlite-utils) would double the time `backchain ask --json` takes.
        from backchain.bot.content import build_matcher, open_content

        self.content = open_content(content_dir)
        self.matcher = build_matcher(self.content)
        self._conversation: Any = None
        self._next_user = 0

    @cached_property
    def understander(self) -> Understander:
        """The reader `--json` and a single plain question use (built on first use: in a
        dialogue the chat's services build their own)."""
        from backchain.bot.chat.reading import build_understander

        return build_understander(self.content, self.matcher)

    def new_user(self) -> int:
        """A user the chat has never met: an empty thread."""
        self._next_user += 1
        return self._next_user

    def as_json(self, question: str, context: Context | None = None) -> dict[str, Any]:
        """What the chat understands of `question`, as one JSON-ready object."""
        from backchain.bot.understanding.understand import Context

        return understanding_json(self.understander.understand(question, context or Context()))

    def as_text(self, question: str, user_id: int | None = None) -> str:
        """Exactly the chat's reply, rendered as plain text.

        A single question is what a new user's first message gets, which needs no storage
        (`chat.replying.first_answer`); in `--dialogue` each user talks to the real
        conversation on a private in-memory database, so a thread lasts one conversation.
        """
        from backchain.bot.adapters.plain import render_reply
        from backchain.bot.chat.incoming import Incoming, Kind

        incoming = Incoming.text_message(0, 0, question)
        if user_id is None and incoming.kind is Kind.TEXT:
            from backchain.bot.chat.replying import first_answer

            outcome = first_answer(self.content, self.understander, question)
            return "\n\n".join(render_reply(reply) for reply in outcome.replies)
        return "\n\n".join(
            render_reply(reply) for reply in self._in_conversation(question, user_id)
        )

    def _in_conversation(self, question: str, user_id: int | None) -> list[Reply]:
        from backchain.bot import buildcache
        from backchain.bot.chat.conversation import Conversation
        from backchain.bot.chat.incoming import Incoming
        from backchain.bot.chat.services import Services
        from backchain.storage import Storage

        if self._conversation is None:
            storage = Storage.open(None, schema_cache=buildcache.cache_dir())
            services = Services(self.content, self.matcher, storage)
            self._conversation = Conversation(services)
        user = self.new_user() if user_id is None else user_id
        outcome = self._conversation.handle(Incoming.text_message(user, user, question))
        return list(outcome.replies)


def understanding_json(understanding: Understanding) -> dict[str, Any]:
    from backchain.bot.understanding.understand import Meaning

    result = understanding.match
    red = understanding.is_red_flag
    topic = understanding.topic
    if understanding.meaning is Meaning.AMBIGUOUS and result is not None:
        topic = result.topic  # the chat's "did you mean" offers it first
    return {
        "topic": None if red else topic,
        "score": 100.0 if understanding.follow_up else round(result.score, 1) if result else 0,
        "candidates": [{"topic": c.topic, "score": round(c.score, 1)} for c in result.candidates]
        if result
        else [],
        "ambiguous": understanding.meaning is Meaning.AMBIGUOUS,
        "red_flag": red,
        "red_flag_level": understanding.red_flag_level if red else None,
        "facet": understanding.facet if topic and not red else None,
        "follow_up": understanding.follow_up,
        "meaning": understanding.meaning.value,
    }


def _stdin_lines() -> Iterable[str]:
    # Bytes in, replaced on decoding errors: junk input must not stop the evaluation.
    for raw in sys.stdin.buffer:
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def _conversations(lines: Iterable[str]) -> Iterable[list[str]]:
    """Turns, one a line; a blank line ends a conversation."""
    turns: list[str] = []
    for line in lines:
        if line.strip():
            turns.append(line)
        elif turns:
            yield turns
            turns = []
    if turns:
        yield turns


def _dialogues(asker: Asker, as_json: bool) -> int:
    from backchain.bot.understanding.understand import Context

    collector.started()  # any number of turns may follow
    out = sys.stdout
    for turns in _conversations(_stdin_lines()):
        context = Context()
        user = asker.new_user()
        for turn in turns:
            if as_json:
                understanding = asker.understander.understand(turn, context)
                context = understanding.next_context(context)
                out.write(json.dumps(understanding_json(understanding)) + "\n")
            else:
                out.write(f"> {turn}\n{asker.as_text(turn, user)}\n\n")
        if not as_json:
            out.write("----\n\n")
    out.flush()
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    asker = Asker(_content_dir(args))
    if args.dialogue:
        return _dialogues(asker, args.json)
    if not args.question:
        if not args.json:
            raise BackchainError("give a question, or use --json to read questions from stdin")
        collector.started()  # any number of questions may follow
        out = sys.stdout
        for line in _stdin_lines():
            out.write(json.dumps(asker.as_json(line)) + "\n")
        out.flush()
        return 0
    question = " ".join(args.question)
    if not question.strip():
        raise BackchainError("the question is empty")
    print(json.dumps(asker.as_json(question)) if args.json else asker.as_text(question))
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    from backchain.bot.content import load_content
    from backchain.bot.understanding.topics import GROUPS

    content = load_content(_content_dir(args))
    if args.json:
        rows = [
            {"id": t.id, "title": t.title, "group": t.group, "summary": t.summary}
            for t in content.topics.values()
        ]
        print(json.dumps(rows, indent=2))
        return 0
    for group in GROUPS:
        print(f"{content.messages(f'group_{group}')}:")
        for topic in content.topics_in_group(group):
            print(f"  {topic.id:24s} {topic.title}")
    return 0


def cmd_content_check(args: argparse.Namespace) -> int:
    from backchain.bot.content import build_matcher, load_content

    content = load_content(Path(args.directory) if args.directory else None)
    build_matcher(content)
    steps = sum(len(p.steps) for p in content.program.phases)
    print(
        f"content OK: {len(content.topics)} topics, {len(content.program.phases)} phases,"
        f" {steps} program steps, {len(content.messages.keys())} messages"
    )
    return 0


def cmd_report_unanswered(args: argparse.Namespace) -> int:
    from backchain.bot.adapters.config import settings_from
    from backchain.storage import open_database
    from backchain.storage.questions import QuestionLog

    settings = settings_from(db=args.db)
    rows = QuestionLog(open_database(settings.db_path)).unanswered_report(args.limit)
    if args.json:
        print(json.dumps([r.__dict__ for r in rows], indent=2))
    elif not rows:
        print("No unanswered questions.")
    for row in [] if args.json else rows:
        print(f"{row.count:5d}  {row.text}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from backchain.bot.adapters.config import settings_from

    settings = settings_from(
        token_file=args.token_file,
        db=args.db,
        api_url=args.api_url,
        content_dir=args.content,
        webhook_url=args.webhook_url,
        listen=args.listen,
        port=args.port,
    )
    if settings.token is None:
        from backchain.bot.adapters.console import run_console

        print(
            "No TELEGRAM_BOT_TOKEN set: starting the local console chat instead.", file=sys.stderr
        )
        return run_console(settings)
    from backchain.bot.adapters.telegram.runner import run_telegram

    return run_telegram(settings)


def cmd_chat(args: argparse.Namespace) -> int:
    from backchain.bot.adapters.config import settings_from
    from backchain.bot.adapters.console import run_console

    return run_console(settings_from(db=args.db, content_dir=args.content))


def _existing_database(db: str | None) -> Any:
    """The database the bot uses, opened and checked; never created by a report."""
    from backchain.bot.adapters.config import settings_from
    from backchain.storage import open_database

    db_path = settings_from(db=db).db_path
    if db_path != ":memory:" and not Path(db_path).exists():
        raise BackchainError(f"no database at {db_path}")
    return open_database(db_path)


def cmd_health(args: argparse.Namespace) -> int:
    import time

    from backchain.bot.adapters.config import settings_from
    from backchain.bot.adapters.heartbeat import heartbeat_path

    db_path = settings_from(db=args.db).db_path
    # A database the bot cannot use (read-only, newer schema) is unhealthy, heartbeat or not.
    if Path(db_path).exists():
        _existing_database(db_path).close()
    path = heartbeat_path(db_path)
    try:
        age = time.time() - path.stat().st_mtime
    except OSError as exc:
        raise BackchainError(f"no heartbeat at {path}: is the bot running?") from exc
    if age > args.max_age:
        raise BackchainError(f"heartbeat is {age:.0f} s old (limit {args.max_age} s)")
    print(f"healthy: heartbeat {age:.0f} s ago")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from backchain.storage.stats import collect

    db = _existing_database(args.db)
    stats = collect(db, datetime.now(UTC), top=args.top)
    db.close()
    if args.json:
        print(json.dumps(stats.as_dict(), indent=2))
        return 0
    windows = ", ".join(f"{k}: {v}" for k, v in stats.users_new.items())
    active = ", ".join(f"{k}: {v}" for k, v in stats.users_active.items())
    print(f"users: {stats.users_total} (new {windows}; active {active})")
    for week in stats.sessions_per_week:
        print(f"sessions {week['week']}: {week['started']} started, {week['finished']} finished")
    adherence = "n/a" if stats.adherence_percent is None else f"{stats.adherence_percent}%"
    print(f"sessions finished in the last 30 days: {adherence}")
    flags = ", ".join(f"{k}: {v}" for k, v in stats.red_flags_by_level.items()) or "none"
    print(f"red-flag replies by level: {flags}")
    reminders = ", ".join(f"{k}: {v}" for k, v in stats.reminders.items())
    print(f"reminders in the last 30 days: {reminders}")
    inbox = ", ".join(f"{k}: {v}" for k, v in stats.inbox.items()) or "empty"
    print(f"update inbox: {inbox}")
    print(f"database size: {stats.database_bytes / 1_048_576:.1f} MB")
    if stats.top_unanswered:
        print("top unanswered questions:")
        for row in stats.top_unanswered:
            print(f"  {row['count']:5d}  {row['text']}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from backchain.storage.database import backup_database

    db = _existing_database(args.db)
    try:
        size = backup_database(db, args.destination)
    finally:
        db.close()
    print(f"backup written to {args.destination} ({size / 1_048_576:.1f} MB)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backchain", description="A self-care coach for hip and lower-back pain."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="answer a question (or questions on stdin with --json)")
    ask.add_argument("question", nargs="*", help="the question; none with --json reads stdin")
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    ask.add_argument(
        "--dialogue",
        action="store_true",
        help="read conversations on stdin: one turn a line, a blank line between conversations",
    )
    ask.add_argument("--content", help="content directory (default: the packaged content)")
    ask.set_defaults(func=cmd_ask)

    topics = sub.add_parser("topics", help="list the topics")
    topics.add_argument("--json", action="store_true")
    topics.add_argument("--content", help="content directory")
    topics.set_defaults(func=cmd_topics)

    content = sub.add_parser("content", help="content tools")
    content_sub = content.add_subparsers(dest="content_command", required=True)
    check = content_sub.add_parser("check", help="validate a content directory")
    check.add_argument("directory", nargs="?", help="default: the packaged content")
    check.set_defaults(func=cmd_content_check)

    report = sub.add_parser("report", help="reports for content editors")
    report_sub = report.add_subparsers(dest="report_command", required=True)
    unanswered = report_sub.add_parser("unanswered", help="questions no topic matched")
    unanswered.add_argument("--db", help="SQLite file (default: $BACKCHAIN_DB or backchain.db)")
    unanswered.add_argument("--limit", type=int, default=100)
    unanswered.add_argument("--json", action="store_true")
    unanswered.set_defaults(func=cmd_report_unanswered)

    run = sub.add_parser("run", help="run the Telegram bot (the console chat without a token)")
    run.add_argument("--token-file", help="file holding the bot token (else $TELEGRAM_BOT_TOKEN)")
    run.add_argument("--api-url", help="Bot API base URL, e.g. http://127.0.0.1:8081/bot")
    run.add_argument("--db", help="SQLite file (default: $BACKCHAIN_DB or backchain.db)")
    run.add_argument("--content", help="content directory")
    run.add_argument("--webhook-url", help="public HTTPS URL: use a webhook instead of polling")
    run.add_argument("--listen", help="webhook listen address (default 0.0.0.0)")
    run.add_argument("--port", type=int, help="webhook port (default 8443)")
    run.set_defaults(func=cmd_run)

    chat = sub.add_parser("chat", help="talk to Backchain in this terminal")
    chat.add_argument("--db", help="SQLite file (default: $BACKCHAIN_DB or backchain.db)")
    chat.add_argument("--content", help="content directory")
    chat.set_defaults(func=cmd_chat)
    health = sub.add_parser("health", help="exit 0 if a running bot refreshed its heartbeat")
    health.add_argument("--db", help="SQLite file the bot uses (the heartbeat sits beside it)")
    health.add_argument("--max-age", type=int, default=180, help="seconds (default 180)")
    health.set_defaults(func=cmd_health)

    stats = sub.add_parser("stats", help="figures for the operator: users, sessions, reminders")
    stats.add_argument("--db", help="SQLite file (default: $BACKCHAIN_DB or backchain.db)")
    stats.add_argument("--json", action="store_true", help="one JSON object")
    stats.add_argument("--top", type=int, default=10, help="unanswered questions to list")
    stats.set_defaults(func=cmd_stats)

    backup = sub.add_parser("backup", help="a consistent copy of the database, safe while running")
    backup.add_argument("destination", help="new file to write the copy to")
    backup.add_argument("--db", help="SQLite file (default: $BACKCHAIN_DB or backchain.db)")
    backup.set_defaults(func=cmd_backup)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    with collector.off_until_started():
        return _run(argv)


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BackchainError as exc:
        print(f"backchain: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        # Imported here: the storage layer (sqlite-utils) costs a fifth of a second to import,
        # and `backchain ask` never touches it.
        from backchain.storage.database import StorageError

        if not isinstance(exc, StorageError):
            raise
        print(f"backchain: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
