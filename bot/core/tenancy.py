"""Who owns what: feeds belong to a Discord server, a Slack workspace or the operator.

Many servers and workspaces share one bot, so each one's feed subscriptions are its own. One
URL is still fetched once: a feed row has any number of owners. The operator (the terminal and
the ``newsbot feeds`` CLI, i.e. whoever runs the bot) owns the default feeds and any added from
the CLI; those are shared with every server and workspace, which can see but not remove them.
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
