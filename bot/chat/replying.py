"""What the chat says to a message, once it is understood; nothing here touches storage.

The private chat, a question asked in a group and `backchain ask` all answer through these, so
they say the same thing. A message from someone the bot knows nothing about (a group question, a
single `backchain ask`) is answered without opening the database at all.
"""

from __future__ import annotations

import html
from collections.abc import Collection

from backchain.bot.chat import answers
from backchain.bot.chat.callbacks import HealthAdd, HealthNo
from backchain.bot.chat.replies import Button, Outcome, Reply
from backchain.bot.content import Content
from backchain.bot.routine.precautions import Condition, Precautions
from backchain.bot.understanding.textnorm import MAX_INPUT_CHARS, normalize, phrase_positions
from backchain.bot.understanding.understand import Context, Meaning, Understander, Understanding

# Words that, just before a mention, say the person does not have it ("I'm not pregnant").
_NEGATIONS = frozenset({"not", "no", "never", "dont", "didnt", "isnt", "wasnt", "arent", "nor"})
_NEGATION_REACH = 3  # words


def reply_for(understanding: Understanding, content: Content, owned_tools: list[str]) -> Reply:
    """What the chat says to what it understood (the thread already applied)."""
    if understanding.flag is not None:
        return answers.red_flag_reply(understanding.flag, content)
    if understanding.meaning is Meaning.SMALL_TALK and understanding.small_talk:
        return Reply(content.messages(understanding.small_talk))
    if understanding.meaning is Meaning.RED_FLAG_FOLLOW_UP and understanding.red_flag_level:
        return answers.red_flag_follow_up_reply(understanding.red_flag_level, content)
    result = understanding.match
    if understanding.meaning is Meaning.AMBIGUOUS and result is not None:
        return answers.ambiguous_reply(result, content)
    if understanding.meaning is not Meaning.TOPIC:
        return answers.not_sure_reply(content)
    return answers.answer(understanding, content, owned_tools)


def mentioned(precautions: Precautions, text: str) -> list[Condition]:
    """Conditions whose everyday phrases appear in `text`, not negated just before."""
    words = normalize(text).split()
    return [
        condition
        for condition, phrases in precautions.mention_words
        if any(_has_phrase(words, phrase) for phrase in phrases)
    ]


def _has_phrase(words: list[str], phrase: tuple[str, ...]) -> bool:
    return any(
        not _NEGATIONS.intersection(words[max(0, start - _NEGATION_REACH) : start])
        for start in phrase_positions(words, phrase)
    )


def health_offer(content: Content, text: str, known: Collection[str]) -> Reply | None:
    """ "Shall I adjust your routine for this?" for the first mentioned condition not `known`."""
    for condition in mentioned(content.precautions, text):
        if condition.id not in known:
            msg = content.messages
            rows = (
                (
                    Button(msg("health_offer_yes"), HealthAdd(condition.id).pack()),
                    Button(msg("health_offer_no"), HealthNo(condition.id).pack()),
                ),
            )
            label = html.escape(condition.label, quote=False)
            return Reply(msg("health_offer", condition=label), rows)
    return None


def public_answer(content: Content, understander: Understander, text: str) -> Outcome:
    """A question asked where no one's thread is kept (a group): understood on its own and
    answered as a first question in the private chat would be, without the personal offer."""
    understanding = understander.understand(text[:MAX_INPUT_CHARS], Context())
    return Outcome().say(reply_for(understanding, content, owned_tools=[]))


def first_answer(content: Content, understander: Understander, text: str) -> Outcome:
    """What the private chat says to the first message of someone it knows nothing about: no
    thread, no session, no tools, no health screen yet (what `Conversation.handle` says then)."""
    text = text[:MAX_INPUT_CHARS]
    if not text.strip():
        return Outcome().say(Reply(content.messages("empty_text")))
    understanding = understander.understand(text, Context())
    outcome = Outcome().say(reply_for(understanding, content, owned_tools=[]))
    if understanding.flag is not None:
        return outcome  # a warning is sent alone
    offer = health_offer(content, text, known=())
    return outcome.say(offer) if offer is not None else outcome
