"""The `backchain` command line: answers, JSON for the evaluation, and clear errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from backchain.bot.adapters.cli import main
from backchain.bot.chat.conversation import Conversation
from backchain.bot.chat.incoming import Incoming
from backchain.bot.chat.services import Services

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "backchain", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        cwd=REPO,
    )


def test_ask_prints_the_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "why", "does", "my", "hip", "hurt"]) == 0
    out = capsys.readouterr().out
    assert "Why does my hip hurt?" in out and "[1] 📖 Tell me more" in out


@pytest.mark.parametrize("text", ["hi", "thanks", "are you a doctor?", "/help", "ok"])
def test_ask_says_what_the_chat_says(
    text: str, capsys: pytest.CaptureFixture[str], services: Services
) -> None:
    from backchain.bot.adapters.plain import render_reply

    assert main(["ask", text]) == 0
    out = capsys.readouterr().out.strip()
    outcome = Conversation(services).handle(Incoming.text_message(5, 5, text))
    assert out == "\n\n".join(render_reply(r) for r in outcome.replies).strip()


def test_ask_json_has_the_documented_fields(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "tight", "hammies"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {
        "topic",
        "score",
        "candidates",
        "ambiguous",
        "red_flag",
        "red_flag_level",
        "facet",
        "follow_up",
        "meaning",
    }
    assert result["topic"] == "hamstrings" and 0 <= result["score"] <= 100
    assert result["red_flag"] is False and result["red_flag_level"] is None


def test_ask_red_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "numb", "around", "my", "groin", "and", "back", "pain"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["red_flag"] is True and result["red_flag_level"] == "emergency"
    assert result["topic"] is None


def test_ask_crisis_json_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["ask", "--json", "i", "want", "to", "kill", "myself", "because", "of", "the", "pain"])
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["red_flag"] is True and result["red_flag_level"] == "crisis"
    assert result["topic"] is None and result["candidates"] == []
    assert main(["ask", "thinking", "of", "ending", "it", "all"]) == 0
    text = capsys.readouterr().out
    assert "988" in text and "116 123" in text and "[1]" not in text


def test_ask_crisis_from_a_cold_process() -> None:
    done = run("ask", "--json", "I can't go on, I want to die")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["red_flag"] is True and result["red_flag_level"] == "crisis"


def test_ask_json_reads_stdin_one_object_a_line_in_order() -> None:
    questions = ["sciatica", "what's the weather", "", "piriformus", "\u00ff\u00fe junk"] * 200
    stdin = ("\n".join(questions) + "\n").encode() + b"\xff\xfe\x00 binary\n"
    done = run("ask", "--json", stdin=stdin)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(rows) == len(questions) + 1
    assert [r["topic"] for r in rows[:4]] == ["sciatic-nerve", None, None, "piriformis"]


def test_ask_handles_100_kb(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "my psoas is tight " * 6000]) == 0
    assert json.loads(capsys.readouterr().out)["topic"] == "psoas"


@pytest.mark.parametrize("args", [["ask", ""], ["ask", "   "], ["ask"]])
def test_empty_question_is_a_clear_error(args: list[str]) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert done.stderr.decode().startswith("backchain: error:")
    assert b"Traceback" not in done.stderr


def test_topics_json_lists_every_topic(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topics", "--json"]) == 0
    ids = {t["id"] for t in json.loads(capsys.readouterr().out)}
    assert {"hip-pain", "soleus", "quadballer", "periodization"} <= ids


def test_content_check_passes_on_shipped_content(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "check"]) == 0
    assert "content OK" in capsys.readouterr().out


def broken_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "content"
    shutil.copytree(REPO / "content", copy)
    return copy


def test_content_check_names_the_problem(tmp_path: Path) -> None:
    copy = broken_copy(tmp_path)
    anatomy = copy / "topics" / "anatomy.yaml"
    anatomy.write_text(
        anatomy.read_text().replace("related:", "related: [no-such-topic]\n    x:", 1)
    )
    done = run("content", "check", str(copy))
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "anatomy.yaml" in err and "no-such-topic" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "victim",
    ["messages.yaml", "red_flags.yaml", "program.yaml", "timezone_aliases.yaml", "health.yaml"],
)
def test_missing_content_file_is_a_one_line_error(tmp_path: Path, victim: str) -> None:
    copy = broken_copy(tmp_path)
    (copy / victim).unlink()
    done = run("ask", "--content", str(copy), "hip")
    assert done.returncode == 2 and victim in done.stderr.decode()
    assert b"Traceback" not in done.stderr


def test_content_check_reads_the_time_zone_aliases(tmp_path: Path) -> None:
    copy = broken_copy(tmp_path)
    aliases = copy / "timezone_aliases.yaml"
    aliases.write_text(aliases.read_text().replace("Europe/Paris:", "Europe/Pariss:", 1))
    done = run("content", "check", str(copy))
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "timezone_aliases.yaml: entry 'Europe/Pariss', field 'aliases'" in err


def test_content_check_names_a_bad_reading_setting(tmp_path: Path) -> None:
    copy = broken_copy(tmp_path)
    vocabulary = copy / "vocabulary.yaml"
    vocabulary.write_text(
        vocabulary.read_text().replace("  sure_typo: 0.9 ", "  sure_typo: 1.5 ", 1)
    )
    done = run("content", "check", str(copy))
    assert done.returncode == 2
    err = done.stderr.decode()
    assert "vocabulary.yaml: entry 'reading', field 'sure_typo'" in err
    assert len(err.strip().splitlines()) == 1


def test_corrupt_yaml_and_missing_directory(tmp_path: Path) -> None:
    copy = broken_copy(tmp_path)
    (copy / "messages.yaml").write_bytes(b"\x00\xff: [")
    assert run("content", "check", str(copy)).returncode == 2
    done = run("content", "check", str(tmp_path / "nowhere"))
    assert done.returncode == 2 and b"missing" in done.stderr


def test_report_unanswered(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime

    from backchain.storage import open_database
    from backchain.storage.questions import QuestionLog
    from backchain.storage.users import UserRepository

    db_path = tmp_path / "r.db"
    db = open_database(db_path)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    UserRepository(db).ensure(7, now)
    for text in ("how do I cook pasta", "How do I cook pasta", "stock market"):
        QuestionLog(db).record(7, text, None, 0.0, None, now)
    db.close()
    assert main(["report", "unanswered", "--db", str(db_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[0] == "2" and "pasta" in lines[0]


def test_health_without_a_running_bot_fails(tmp_path: Path) -> None:
    done = run("health", "--db", str(tmp_path / "none.db"))
    assert done.returncode == 2 and b"heartbeat" in done.stderr


def test_bad_token_file_is_a_clear_error(tmp_path: Path) -> None:
    done = run("run", "--token-file", str(tmp_path / "missing-token"))
    assert done.returncode == 2 and b"token file" in done.stderr


def test_ask_dialogue_keeps_context_within_a_conversation_only() -> None:
    stdin = b"what is the soleus\nhow long?\n\nhow long?\n"
    result = run("ask", "--json", "--dialogue", stdin=stdin)
    assert result.returncode == 0, result.stderr
    turns = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(t["topic"], t["facet"], t["follow_up"]) for t in turns] == [
        ("soleus", "what", False),
        ("soleus", "dose", True),
        (None, None, False),
    ]
