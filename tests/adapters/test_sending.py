"""The send budget: per-chat flood waits, bounded retries, a bulk share."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from backchain.bot.adapters.telegram.sending import BULK, SendBudget, SendLimits
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

FAST = SendLimits(first_backoff=0.01, max_backoff=0.05, max_retry_seconds=0.5)


class Script:
    """A fake Bot API call: raises the scripted errors in turn, then succeeds."""

    def __init__(self, *errors: Exception):
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {"ok": True}


async def send(
    budget: SendBudget,
    call: Callable[..., Any],
    chat: int = 1,
    method: str = "sendMessage",
    kind: str | None = None,
) -> Any:
    return await budget.process_request(call, (), {}, method, {"chat_id": chat}, kind)


async def test_flood_wait_holds_only_its_chat_and_delivers_once() -> None:
    budget = SendBudget(FAST)
    loop = asyncio.get_running_loop()
    a = Script(RetryAfter(1))
    task = asyncio.create_task(send(budget, a, chat=1))
    await asyncio.sleep(0.05)
    started = loop.time()
    await send(budget, Script(), chat=2)
    assert loop.time() - started < 0.1  # chat 2 is not held by chat 1's flood wait
    await task
    assert a.calls == 2


async def test_repeated_flood_waits_deliver_once_within_the_bound() -> None:
    budget = SendBudget(SendLimits(max_flood_wait=5))
    call = Script(RetryAfter(1), RetryAfter(1), RetryAfter(1))
    assert await send(budget, call) == {"ok": True}
    assert call.calls == 4


async def test_flood_wait_beyond_the_bound_is_raised() -> None:
    budget = SendBudget(SendLimits(max_flood_wait=2))
    with pytest.raises(RetryAfter):
        await send(budget, Script(RetryAfter(5)))


@pytest.mark.parametrize(
    "error", [NetworkError("Bad Gateway"), TimedOut("timed out"), NetworkError("Internal")]
)
async def test_transient_errors_are_retried(error: Exception) -> None:
    call = Script(error, error)
    assert await send(SendBudget(FAST), call) == {"ok": True}
    assert call.calls == 3


async def test_transient_errors_give_up_after_the_bound(caplog: pytest.LogCaptureFixture) -> None:
    call = Script(*[NetworkError("Bad Gateway")] * 100)
    with pytest.raises(NetworkError):
        await send(SendBudget(FAST), call)
    assert 3 <= call.calls < 100
    assert "failed after" in caplog.text and "network" in caplog.text


@pytest.mark.parametrize("error", [BadRequest("can't parse"), Forbidden("blocked")])
async def test_permanent_errors_are_not_retried(error: Exception) -> None:
    call = Script(error)
    with pytest.raises(type(error)):
        await send(SendBudget(FAST), call)
    assert call.calls == 1


async def test_callback_answers_are_not_retried() -> None:
    call = Script(NetworkError("Bad Gateway"))
    with pytest.raises(NetworkError):
        await send(SendBudget(FAST), call, method="answerCallbackQuery")
    assert call.calls == 1


async def test_bulk_sends_leave_interactive_replies_their_share() -> None:
    budget = SendBudget(SendLimits(per_second=30, bulk_per_second=10))
    loop = asyncio.get_running_loop()
    bulk = [asyncio.create_task(send(budget, Script(), chat=n, kind=BULK)) for n in range(60)]
    await asyncio.sleep(0.3)
    started = loop.time()
    await send(budget, Script(), chat=999)
    waited = loop.time() - started
    done = sum(task.done() for task in bulk)
    for task in bulk:
        task.cancel()
    assert waited < 0.2
    assert done < 30  # bulk is held to its own rate
