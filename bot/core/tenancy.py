"""Who owns what: feeds belong to a Discord server, a Slack workspace or the operator.

Many servers and workspaces share one bot, so each one's feed subscriptions are its own. One
URL is still fetched once: a feed row has any number of owners. The operator (the terminal and
the ``newsbot feeds`` CLI, i.e. whoever runs the bot) owns the default feeds and any added from
the CLI; those are shared with every server and workspace, which can see but not remove them.

Stories are shared the same way, report by report: a channel sees a story only through the
reports of feeds its server or workspace reads (``readers_of``), is alerted only by those, and
sees the story as those reports tell it.
"""

from __future__ import annotations

from collections.abc import Collection

from bot.core.errors import InvalidInput
from bot.core.stories import Destination

OPERATOR = "operator"
OWNER_MAX = 120


def owner_of(destination: Destination) -> str:
    """The owner a channel's settings belong to: its server or workspace (the terminal: operator).

    A chat channel outside any server or workspace (a direct message) owns nothing: refused.
    """
    if destination.platform == "console":
        return OPERATOR
    workspace = (destination.workspace_id or "").strip()
    if not workspace:
        raise InvalidInput("This works only in a server or workspace channel, not in a DM.")
    return f"{destination.platform}:{workspace}"[:OWNER_MAX]


def readers_of(destination: Destination) -> frozenset[str] | None:
    """The feed owners whose reports a channel reads; None for the operator, who reads all.

    A server or workspace channel reads its own feeds and the operator's shared ones; a channel
    outside any (a direct message) only the shared ones.
    """
    if destination.platform == "console":
        return None
    try:
        return frozenset({OPERATOR, owner_of(destination)})
    except InvalidInput:
        return frozenset({OPERATOR})


def sees(owner: str, feed_owners: Collection[str]) -> bool:
    """True when ``owner`` may see a feed (or a story reported by it) owned by ``feed_owners``."""
    return owner == OPERATOR or OPERATOR in feed_owners or owner in feed_owners


def destination_sees(destination: Destination, feed_owners: Collection[str]) -> bool:
    """True when a channel may be told about a story whose feeds have ``feed_owners``.

    A channel outside any server or workspace gets only the operator's shared feeds.
    """
    if OPERATOR in feed_owners:
        return True
    try:
        return sees(owner_of(destination), feed_owners)
    except InvalidInput:
        return False


def reaches_new_readers(owners_before: Collection[str], owners_now: Collection[str]) -> bool:
    """True when feeds of ``owners_now`` show a story to someone ``owners_before`` did not.

    Everyone reads the operator's feeds, so nobody is new to a story one of them carried.
    """
    return OPERATOR not in owners_before and bool(set(owners_now) - set(owners_before))
