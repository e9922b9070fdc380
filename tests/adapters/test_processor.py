"""The update processor: concurrent across people, in order for each user and each chat."""

from __future__ import annotations

import asyncio
from typing import Any

from backchain.bot.adapters.telegram.processor import OrderedUpdateProcessor, ordering_keys
from telegram import Update


def message(update_id: int, user_id: int, chat_id: int | None = None) -> Update:
    chat = chat_id if chat_id is not None else user_id
    kind = "private" if chat == user_id else "supergroup"
    data: dict[str, Any] = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat, "type": kind},
            "from": {"id": user_id, "is_bot": False, "first_name": "U"},
            "text": "hi",
        },
    }
    return Update.de_json(data, None)


def test_keys_are_user_then_chat_and_private_chats_take_one() -> None:
    assert ordering_keys(message(1, 7)) == ("user:7",)
    assert ordering_keys(message(1, 7, -100)) == ("user:7", "chat:-100")
    assert ordering_keys("not an update") == ()


async def run_all(processor: OrderedUpdateProcessor, jobs: list[tuple[Update, float]]) -> list:
    log: list[tuple[str, int]] = []

    async def handler(update: Update, seconds: float) -> None:
        log.append(("start", update.update_id))
        await asyncio.sleep(seconds)
        log.append(("end", update.update_id))

    # Tasks are created in arrival order, as python-telegram-bot does.
    tasks = [
        asyncio.create_task(processor.process_update(update, handler(update, seconds)))
        for update, seconds in jobs
    ]
    await asyncio.gather(*tasks)
    return log


async def test_one_users_updates_run_in_order_others_run_alongside() -> None:
    processor = OrderedUpdateProcessor()
    loop = asyncio.get_running_loop()
    started = loop.time()
    log = await run_all(
        processor,
        [(message(1, 7), 0.3), (message(2, 7), 0.0), (message(3, 8), 0.0), (message(4, 7), 0.0)],
    )
    elapsed = loop.time() - started
    # User 8 finished while user 7's first update was still running.
    assert log.index(("end", 3)) < log.index(("end", 1))
    user7 = [entry for entry in log if entry[1] in (1, 2, 4)]
    assert user7 == [("start", 1), ("end", 1), ("start", 2), ("end", 2), ("start", 4), ("end", 4)]
    assert elapsed < 0.6
    assert processor.active_keys == 0  # locks are dropped once nobody uses them


async def test_a_group_runs_in_order_but_holds_no_member_elsewhere() -> None:
    processor = OrderedUpdateProcessor()
    log = await run_all(
        processor,
        [(message(1, 7, -100), 0.3), (message(2, 8, -100), 0.0), (message(3, 9), 0.0)],
    )
    assert log.index(("end", 1)) < log.index(("start", 2))  # same group: in order
    assert log.index(("end", 3)) < log.index(("end", 1))  # another chat: not held


async def test_finished_is_reported_but_not_for_a_cancelled_update() -> None:
    processor = OrderedUpdateProcessor()
    finished: list[int] = []
    processor.on_finished = lambda update, seconds: finished.append(update.update_id)

    async def slow() -> None:
        await asyncio.sleep(10)

    async def quick() -> None:
        return None

    slow_task = asyncio.create_task(processor.process_update(message(1, 7), slow()))
    await processor.process_update(message(2, 8), quick())
    await asyncio.sleep(0.05)
    processor.stop_after(0.05)
    await asyncio.wait_for(slow_task, 2)
    assert finished == [2]  # update 1 stays pending in the inbox for the next start
