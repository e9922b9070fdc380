"""Operations under Telegram's real faults: nobody waits for anybody else, nothing is lost.

Every test drives the real `backchain run` against the fake Bot API with faults injected per
method and per chat, and prints the figure it asserts on (run with -s to see them).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from .conftest import BotLauncher
from .fake_bot_api import FakeBotApi
from .flows import query, stop_cleanly
from .user import SimulatedUser

QUESTION = "why does my hip hurt"
GROUP = -100777


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"BACKCHAIN_FILES_DIR": str(tmp_path / "files"), **extra}


async def timed_reply(user: SimulatedUser, text: str, timeout: float = 30.0) -> float:
    """Seconds from sending `text` to the bot's first reply."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    await user.send(text)
    await user.next_reply(timeout=timeout)
    return loop.time() - started


def sent_to(fake_api: FakeBotApi, chat_id: int) -> list[str]:
    return [
        reply.text or ""
        for reply in fake_api.replies(chat_id)
        if reply.action == "sent" and reply.method == "sendMessage"
    ]


async def test_flood_wait_on_one_user_does_not_delay_another(
    bot_process: BotLauncher,
    fake_api: FakeBotApi,
    make_user: Callable[..., SimulatedUser],
    tmp_path: Path,
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    alex, sam = make_user(2001, "Alex"), make_user(2002, "Sam")
    fake_api.inject_fault("sendMessage", status=429, retry_after=5, chat_id=alex.chat_id)
    await alex.send(QUESTION)
    await fake_api.wait_for(lambda: fake_api.faults[0].hits == 1, 10, what="the 429")
    delay = await timed_reply(sam, QUESTION)
    print(f"\nother user's delay under a 5 s flood wait on A: {delay:.3f} s")
    assert delay < 1.0
    await alex.next_reply(timeout=15)
    await asyncio.sleep(0.5)
    assert len(sent_to(fake_api, alex.chat_id)) == 1
    await stop_cleanly(bot)


async def test_three_flood_waits_in_a_row_still_deliver_once(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    fake_api.inject_fault("sendMessage", status=429, retry_after=1, chat_id=user.chat_id, times=3)
    await user.send(QUESTION)
    await user.next_reply(timeout=20)
    await asyncio.sleep(0.5)
    calls = [c for c in fake_api.calls_to("sendMessage") if c.params.get("chat_id") == user.chat_id]
    print(f"\nsendMessage calls for one answer under 3 x 429: {len(calls)}, delivered: 1")
    assert len(sent_to(fake_api, user.chat_id)) == 1
    assert [c.status for c in calls] == [429, 429, 429, 200]
    await stop_cleanly(bot)


async def test_slow_send_to_one_user_does_not_delay_another(
    bot_process: BotLauncher,
    fake_api: FakeBotApi,
    make_user: Callable[..., SimulatedUser],
    tmp_path: Path,
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    alex, sam = make_user(2101, "Alex"), make_user(2102, "Sam")
    fake_api.inject_fault("sendMessage", delay=7.0, chat_id=alex.chat_id)
    await alex.send(QUESTION)
    await fake_api.wait_for(lambda: fake_api.faults[0].hits == 1, 10, what="the slow send")
    delay = await timed_reply(sam, QUESTION)
    print(f"\nother user's delay under a 7 s send to A: {delay:.3f} s")
    assert delay < 1.0
    reply = await alex.next_reply(timeout=15)
    await asyncio.sleep(0.5)
    # The slow answer arrives once, and no "something went wrong" before it.
    assert [reply.text] == sent_to(fake_api, alex.chat_id)
    await stop_cleanly(bot)


async def test_busy_group_does_not_delay_a_private_user(
    bot_process: BotLauncher,
    fake_api: FakeBotApi,
    make_user: Callable[..., SimulatedUser],
    tmp_path: Path,
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    fake_api.register_group(GROUP)
    members = [make_user(2200 + n, f"Member{n}") for n in range(5)]
    for n in range(30):
        fake_api.push_group_message(GROUP, members[n % 5].user_id, QUESTION)
    # Telegram allows 20 messages a minute in a group: the rest of the 30 must wait.
    await fake_api.wait_for(lambda: len(sent_to(fake_api, GROUP)) >= 20, 20, what="20 in group")
    sam = make_user(2299, "Sam")
    delay = await timed_reply(sam, QUESTION)
    print(f"\nprivate user's delay while a group waits out its limit: {delay:.3f} s")
    assert delay < 1.0
    assert len(sent_to(fake_api, GROUP)) <= 21
    await stop_cleanly(bot)


async def test_server_errors_and_dropped_connections_on_send_are_retried(
    bot_process: BotLauncher,
    fake_api: FakeBotApi,
    make_user: Callable[..., SimulatedUser],
    tmp_path: Path,
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    alex, sam, kim = make_user(2301, "Alex"), make_user(2302, "Sam"), make_user(2303, "Kim")
    fake_api.inject_fault("sendMessage", status=502, chat_id=alex.chat_id, times=2)
    fake_api.inject_fault("sendMessage", status=500, chat_id=sam.chat_id, times=1)
    fake_api.inject_fault("sendMessage", status=503, chat_id=kim.chat_id, times=1)
    for person in (alex, sam, kim):
        await person.send(QUESTION)
    for person in (alex, sam, kim):
        await person.next_reply(timeout=20)
    await asyncio.sleep(0.5)
    delivered = {p.first_name: len(sent_to(fake_api, p.chat_id)) for p in (alex, sam, kim)}
    print(f"\nanswers delivered after 5xx: {delivered}")
    assert delivered == {"Alex": 1, "Sam": 1, "Kim": 1}
    assert "retry" in bot.logs()
    await stop_cleanly(bot)


async def test_press_counts_when_answering_its_query_fails(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    await user.send(QUESTION)
    answer = await user.next_reply()
    label = answer.buttons[0][0].text
    fake_api.inject_fault("answerCallbackQuery", status=502, times=1)
    await user.press(label)
    opened = await user.next_reply(timeout=10)
    assert opened.text and "went wrong" not in opened.text
    fake_api.inject_fault("answerCallbackQuery", delay=3.0, times=1)
    await user.press(label)
    assert (await user.next_reply(timeout=10)).text == opened.text
    await asyncio.sleep(3.5)
    assert not any("went wrong" in text for text in sent_to(fake_api, user.chat_id))
    await stop_cleanly(bot)


async def test_sigkill_with_40_questions_in_flight_loses_none_and_repeats_none(
    bot_process: BotLauncher,
    fake_api: FakeBotApi,
    make_user: Callable[..., SimulatedUser],
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "backchain.db"
    bot = await bot_process(env=bot_env(tmp_path), db_path=db_path)
    people = [make_user(3000 + n, f"P{n}") for n in range(40)]
    # Staggered slow sends keep most answers in flight when the process dies.
    for n, person in enumerate(people):
        fake_api.inject_fault("sendMessage", delay=0.3 + 0.15 * n, chat_id=person.chat_id)
    for person in people:
        await person.send(QUESTION)
    await fake_api.wait_until_updates_confirmed(timeout=10)

    def answered() -> int:
        return sum(1 for p in people if sent_to(fake_api, p.chat_id))

    await fake_api.wait_for(lambda: answered() >= 10, 20, what="10 answers")
    # Killed between two sends, not in the instant Telegram has accepted one and the bot has
    # not yet heard back: no inbox can tell that instant apart (see the README).
    await asyncio.sleep(0.07)
    await bot.kill()
    before = answered()
    fake_api.clear_faults()
    await bot.start()
    await fake_api.wait_for(lambda: answered() == 40, 30, what="40 answers")
    await asyncio.sleep(1.5)
    copies = [len(sent_to(fake_api, p.chat_id)) for p in people]
    print(f"\nSIGKILL after {before} of 40 answers; after restart: {answered()} answered,")
    print(f"copies per person: max {max(copies)}, total {sum(copies)}")
    assert copies == [1] * 40
    pending = query(db_path, "SELECT COUNT(*) FROM update_inbox WHERE status = 'pending'")
    assert pending == [(0,)]
    await stop_cleanly(bot)


async def test_group_gets_one_line_and_a_private_link_for_personal_commands(
    bot_process: BotLauncher,
    fake_api: FakeBotApi,
    make_user: Callable[..., SimulatedUser],
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "backchain.db"
    bot = await bot_process(env=bot_env(tmp_path), db_path=db_path)
    fake_api.register_group(GROUP)
    member = make_user(2401, "Member")
    personal = ["/session", "/progress", "/export", "/profile", "/health", "/remind"]
    personal += ["/reminders", "/forget", "/start", "/export@backchain_test_bot"]
    for command in personal:
        before = len(fake_api.replies(GROUP))
        fake_api.push_group_message(GROUP, member.user_id, command)
        await fake_api.wait_for(lambda b=before: len(fake_api.replies(GROUP)) > b, 10)
        await asyncio.sleep(0.2)
        new = fake_api.replies(GROUP)[before:]
        assert len(new) == 1, (command, [r.text for r in new])
        assert new[0].method == "sendMessage"
        link = new[0].buttons[0][0]
        assert link.url == "https://t.me/backchain_test_bot?start=from-group", command
    for command in ("/help@otherbot", "/forget@otherbot", "/export@someone_else_bot"):
        fake_api.push_group_message(GROUP, member.user_id, command)
    fake_api.push_group_message(GROUP, member.user_id, QUESTION)
    await fake_api.wait_for(lambda: len(fake_api.replies(GROUP)) == len(personal) + 1, 10)
    await asyncio.sleep(0.5)
    replies = fake_api.replies(GROUP)
    assert len(replies) == len(personal) + 1  # the other bot's commands got nothing
    assert "hip" in (replies[-1].text or "").lower()
    assert not [c for c in fake_api.calls if c.method in ("sendDocument", "sendPhoto")]
    assert query(db_path, "SELECT COUNT(*) FROM reminders WHERE chat_id < 0") == [(0,)]
    assert not fake_api.replies(member.chat_id)
    print(f"\ngroup: {len(personal)} personal commands, each one line with a private link")
    await stop_cleanly(bot)


async def test_unparseable_update_is_logged_once_and_skipped(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    # A chat that is not an object: the library cannot build an Update from it.
    fake_api.push_update("message", {"message_id": 1, "date": 0, "chat": "not-a-chat"})
    lone = "why does my hip hurt \ud800 \x00 now"
    fake_api.push_message(user.user_id, lone)
    reply = await user.next_reply(timeout=10)
    assert reply.text
    await asyncio.sleep(1.0)
    log = bot.logs()
    assert log.count("cannot parse") == 1
    assert "Traceback" not in log
    assert "CRITICAL" not in log
    await stop_cleanly(bot)


async def test_blocked_user_is_one_line_without_traceback(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    bot = await bot_process(env=bot_env(tmp_path))
    fake_api.block_chat(user.chat_id)
    await user.send(QUESTION)
    await fake_api.wait_for(lambda: any(c.status == 403 for c in fake_api.calls), 10)
    await asyncio.sleep(0.5)
    log = bot.logs()
    assert "blocked the bot" in log
    assert "Traceback" not in log
    await stop_cleanly(bot)


async def test_telegram_unreachable_at_start_is_retried_not_fatal(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    await fake_api.stop()
    bot = await bot_process(env=bot_env(tmp_path), wait_ready=False)
    for _ in range(300):
        if bot.logs().count("Telegram unreachable") >= 2 or not bot.running:
            break
        await asyncio.sleep(0.1)
    assert bot.running
    log = bot.logs()
    assert log.count("Telegram unreachable") >= 2
    assert "Traceback" not in log
    await fake_api.start()
    polls = fake_api.get_updates_count
    await fake_api.wait_for(lambda: fake_api.get_updates_count > polls, 30, what="polling")
    await user.send(QUESTION)
    assert (await user.next_reply(timeout=10)).text
    await stop_cleanly(bot)


async def test_rejected_token_is_one_clear_line_and_a_nonzero_exit(
    bot_process: BotLauncher, tmp_path: Path
) -> None:
    token = "123456:WRONG-SECRET-abcdefgh"
    bot = await bot_process(env=bot_env(tmp_path), token=token, wait_ready=False)
    code = await bot.wait_exit(timeout=20)
    log = bot.logs()
    assert code != 0
    assert "rejected the bot token 123456:<redacted>" in log
    assert "WRONG-SECRET" not in log
    assert "Traceback" not in log


async def test_database_from_a_newer_version_refuses_to_start_and_is_unhealthy(
    bot_process: BotLauncher, tmp_path: Path
) -> None:
    from backchain.bot.adapters.cli import main
    from backchain.storage import open_database

    db_path = tmp_path / "backchain.db"
    open_database(db_path).close()
    with closing(sqlite3.connect(db_path)) as db:
        db.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('backchain', 'm999_from_the_future', '2030-01-01')"
        )
        db.commit()
    bot = await bot_process(env=bot_env(tmp_path), db_path=db_path, wait_ready=False)
    code = await bot.wait_exit(timeout=20)
    log = bot.logs()
    assert code != 0
    assert "newer Backchain (m999_from_the_future)" in log
    assert "Traceback" not in log
    assert main(["health", "--db", str(db_path)]) != 0


async def test_json_logs_and_metrics_port(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    import json
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = bot_env(tmp_path, BACKCHAIN_LOG_FORMAT="json", BACKCHAIN_METRICS_PORT=str(port))
    bot = await bot_process(env=env)
    await user.send(QUESTION)
    await user.next_reply()
    await asyncio.sleep(0.3)
    url = f"http://127.0.0.1:{port}/metrics"
    text = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read().decode())
    assert 'backchain_updates_total{kind="message"} 1.0' in text
    assert "backchain_reply_latency_seconds_bucket" in text
    await stop_cleanly(bot)
    lines = [line for line in bot.logs().splitlines() if line and not line.startswith("---")]
    entries = [json.loads(line) for line in lines]
    assert any("connected to Telegram" in entry["message"] for entry in entries)


async def test_session_presses_count_when_their_answers_and_replies_fail(
    bot_process: BotLauncher, fake_api: FakeBotApi, user: SimulatedUser, tmp_path: Path
) -> None:
    from .flows import onboard
    from .test_bot_session import DONE, start_session, step_number

    db_path = tmp_path / "backchain.db"
    bot = await bot_process(env=bot_env(tmp_path), db_path=db_path)
    await onboard(user, "Hip & Lower Back Kit")
    step = await start_session(user, "5")
    first, _ = step_number(step)
    # Done on step 1: its callback answer fails (502), then the next step's send fails once (502).
    fake_api.inject_fault("answerCallbackQuery", status=502)
    fake_api.inject_fault("sendMessage", status=502, chat_id=user.chat_id)
    await user.press(DONE)
    replies = await user.replies_until_idle(at_least=2, timeout=15)
    following = [r for r in replies if not r.is_edit]
    assert following and step_number(following[-1])[0] == first + 1
    # Done on step 2: its callback answer times out.
    fake_api.inject_fault("answerCallbackQuery", delay=3.0)
    await user.press(DONE)
    replies = await user.replies_until_idle(at_least=2, timeout=15)
    assert step_number([r for r in replies if not r.is_edit][-1])[0] == first + 2
    stored = query(db_path, "SELECT step_index, COUNT(*) FROM step_events GROUP BY step_index")
    print(f"\nsteps stored under failed callback answers and a 502 on the reply: {stored}")
    assert stored == [(0, 1), (1, 1)]
    assert not any("went wrong" in text for text in sent_to(fake_api, user.chat_id))
    await asyncio.sleep(3.2)
    await stop_cleanly(bot)


async def test_database_locked_by_another_program_loses_nothing_and_frees_at_once(
    bot_process: BotLauncher,
    fake_api: FakeBotApi,
    make_user: Callable[..., SimulatedUser],
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "backchain.db"
    # Patience shorter than the lock: polling gives up, says so in one line, and asks again.
    bot = await bot_process(env=bot_env(tmp_path, BACKCHAIN_DB_PATIENCE="2"), db_path=db_path)
    alex, sam = make_user(2401, "Alex"), make_user(2402, "Sam")
    await timed_reply(alex, QUESTION)
    loop = asyncio.get_running_loop()
    with closing(sqlite3.connect(db_path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock for 5 s
        await alex.send("how long should I do that?")
        await asyncio.sleep(1.0)
        await sam.send(QUESTION)
        await asyncio.sleep(4.0)
        during = len(sent_to(fake_api, alex.chat_id)) - 1 + len(sent_to(fake_api, sam.chat_id))
        other.execute("ROLLBACK")
        released = loop.time()
    await alex.next_reply(timeout=10)
    await sam.next_reply(timeout=10)
    after_release = loop.time() - released
    await asyncio.sleep(1.0)
    print(f"\nanswers during a 5 s lock: {during}; both answered {after_release:.2f} s after it")
    assert during == 0
    assert after_release < 3.0
    assert len(sent_to(fake_api, alex.chat_id)) == 2 and len(sent_to(fake_api, sam.chat_id)) == 1
    assert not any("went wrong" in t for t in sent_to(fake_api, alex.chat_id))
    pending = query(db_path, "SELECT COUNT(*) FROM update_inbox WHERE status = 'pending'")
    assert pending == [(0,)]
    log = bot.logs()
    assert "database locked by another process" in log
    assert "Traceback" not in log
    await stop_cleanly(bot)
