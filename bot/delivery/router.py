"""Routing: story events become outbox rows for the destinations that want them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from bot.core.stories import Destination, StoryEvent, Subscription
from bot.core.tenancy import readers_of
from bot.delivery.records import Watch, alert_key, destination_key
from bot.storage.newsdesk import OutboxRepository, SubscriptionRepository
from bot.stories.filters import matches, mentions

log = logging.getLogger(__name__)


def recipients(
    event: StoryEvent, subscriptions: Sequence[Subscription], watches: Sequence[Watch]
) -> list[Destination]:
    """Alert subscribers whose filters and minimum score pass, and watchers of a mentioned term.

    Each destination once, in subscription order then watch order.
    """
    chosen: dict[str, Destination] = {}
    for subscription in subscriptions:
        if (
            subscription.mode in ("alerts", "both")
            and subscription.disabled_reason is None
            and matches(event.story, subscription.filters)
        ):
            chosen.setdefault(destination_key(subscription.destination), subscription.destination)
    for watch in watches:
        key = destination_key(watch.destination)
        if key not in chosen and mentions(event.story, watch.term):
            chosen[key] = watch.destination
    return list(chosen.values())


class Router:
    """Turns unrouted story events into outbox rows; safe to run again after any crash."""

    def __init__(
        self,
        subscriptions: SubscriptionRepository,
        outbox: OutboxRepository,
        *,
        clock: Callable[[], datetime],
        on_routed: Callable[[], None] | None = None,
    ) -> None:
        self._subscriptions = subscriptions
        self._outbox = outbox
        self._clock = clock
        self._on_routed = on_routed

    async def route_pending(self) -> int:
        """Route every waiting event; returns the number of outbox rows queued."""
        queued = 0
        while events := await self._outbox.unrouted_events():
            for event_id, event in events:
                targets = [
                    (destination, alert_key(event_id, destination))
                    for destination in await self._recipients(event_id, event)
                ]
                queued += await self._outbox.route(event_id, targets, self._clock())
                log.debug("story event %d routed to %d destination(s)", event_id, len(targets))
        if queued and self._on_routed is not None:
            self._on_routed()
        return queued

    async def _recipients(self, event_id: int, event: StoryEvent) -> list[Destination]:
        """Destinations that read a report behind the event, each judged by its filters and
        watches against the story as its own server's or workspace's reports tell it."""
        subscriptions, watches = await self._subscriptions.alert_targets(
            event.story.id, event.item_ids
        )
        groups: dict[frozenset[str] | None, tuple[list[Subscription], list[Watch]]] = {}
        for subscription in subscriptions:
            groups.setdefault(readers_of(subscription.destination), ([], []))[0].append(
                subscription
            )
        for watch in watches:
            groups.setdefault(readers_of(watch.destination), ([], []))[1].append(watch)
        chosen: list[Destination] = []
        for readers, (wanted, watching) in groups.items():
            seen = await self._outbox.event_as_seen(event_id, readers)
            # An update without changes is news only to those it shows the story to first.
            if seen is not None and (seen.kind == "new" or seen.changes):
                chosen += recipients(seen, wanted, watching)
        return chosen
