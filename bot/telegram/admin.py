"""The admins' commands about the running bot: /reload and /stats."""

from __future__ import annotations

import html
from collections.abc import Collection

from telegram import Update

from bot.telegram.sending import limited, reply
from bot.telegram.state import ASKED_WAYS, Context, reloader_of, state_of


def is_admin(update: Update, admins: Collection[int]) -> bool:
    """True for a new message an admin sent as themselves: never an edit, a channel post, or a message
    sent on behalf of a chat (an anonymous group admin), whatever the handlers' filters let through."""
    message, user = update.message, update.effective_user
    if message is None or user is None or user.is_bot or message.sender_chat is not None:
        return False
    return user.id in admins


async def reload_command(update: Update, context: Context) -> None:
    """Admin: re-read the corpus off the event loop; report the size before and after, or the problem."""
    state = state_of(context)
    message = update.effective_message
    if message is None or await limited(state, update, message):
        return
    if not is_admin(update, state.config.telegram.admins):
        await reply(state, message, "Sorry, only the bot's admins can reload the corpus.")
        return
    result = await reloader_of(state).reload()
    if result.ok:
        text = f"Reloaded the corpus.\nBefore: {result.before}\nNow: {result.after}"
    else:
        text = f"Reload failed: {html.escape(result.error)}\nStill serving the old corpus ({result.before})."
    await reply(state, message, text)


async def stats_command(update: Update, context: Context) -> None:
    """Admin: questions answered, refusals, feedback, uptime and corpus size."""
    state = state_of(context)
    message = update.effective_message
    if message is None or await limited(state, update, message):
        return
    if not is_admin(update, state.config.telegram.admins):
        await reply(state, message, "Sorry, only the bot's admins can see the statistics.")
        return
    stats = state.library.stats()
    ways = " · ".join(f"{way} {stats.ways.get(way, 0)}" for way in ASKED_WAYS)
    text = (
        f"<b>Since the start</b> ({duration(stats.uptime)} ago)\n"
        f"Questions answered: {stats.answered}\n"
        f"Refusals: {stats.refused}\n"
        f"Asked by: {ways}\n"
        f"Feedback: 👍 {state.votes['up']} · 👎 {state.votes['down']}\n"
        f"Corpus: {stats.size}"
    )
    await reply(state, message, text)


def duration(seconds: float) -> str:
    """Return a short human duration: '42 s', '5 min 03 s', '2 h 07 min', '3 d 4 h'."""
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"
