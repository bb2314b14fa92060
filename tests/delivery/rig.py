"""Everything between a stored item and a fake chat platform, on a real store."""

from __future__ import annotations

from datetime import timedelta

from bot.core.models import FeedInfo, NewItem
from bot.core.stories import Destination, Filters, Mode, Subscription
from bot.delivery.digests import DigestScheduler
from bot.delivery.outbox import Outbox, OutboxPolicy
from bot.delivery.router import Router
from bot.delivery.service import DeliveryService
from bot.storage.newsdesk import OutboxRecord, Repositories
from bot.storage.store import Store
from bot.stories.desk import Desk
from bot.stories.sink import StorySink
from tests.delivery.fakes import FakeChat
from tests.fakes import FakeClock
from tests.stories.helpers import Newsroom, day

POLICY = OutboxPolicy(
    backoff_base=timedelta(seconds=30),
    backoff_max=timedelta(minutes=10),
    max_age=timedelta(hours=1),
)


def channel(name: str, platform: str = "discord") -> Destination:
    """A destination in guild g1."""
    return Destination(platform, name, "g1")


class Rig:
    """Sink, router, digests, outbox and desk over one store, one clock and one fake chat."""

    def __init__(self, store: Store, *, policy: OutboxPolicy = POLICY) -> None:
        self.store = store
        self.clock = FakeClock(day("2019-02-25T00:00"))
        self.chat = FakeChat()
        self.repos = Repositories.over(store.engine)
        self.room = Newsroom(store)
        self.router = Router(self.repos.subscriptions, self.repos.outbox, clock=self.clock)
        self.sink = StorySink(self.repos.stories, clock=self.clock, route=self.router.route_pending)
        self.digests = DigestScheduler(
            self.repos.subscriptions, self.repos.outbox, self.repos.stories, clock=self.clock
        )
        self.policy = policy
        self.sleeps: list[float] = []
        self.outbox = self.new_outbox()
        self.service = DeliveryService(self.router, self.digests, self.outbox, clock=self.clock)
        self.added: list[tuple[str, str]] = []
        self.desk = Desk(self.repos, store, self._add_feed, clock=self.clock)

    def new_outbox(self, chat: FakeChat | None = None) -> Outbox:
        """A fresh Outbox, as a restarted process builds it."""

        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)

        return Outbox(
            self.repos.outbox,
            [chat or self.chat],
            clock=self.clock,
            policy=self.policy,
            sleep=sleep,
        )

    async def _add_feed(self, url: str, owner: str) -> FeedInfo:
        self.added.append((url, owner))
        return await self.store.add_feed(url, self.clock(), owner=owner)

    async def subscribe(
        self, name: str, mode: Mode = "alerts", filters: Filters | None = None, **kwargs: str
    ) -> Subscription:
        """Subscribe a channel and drop its welcome digest, so tests see only alerts."""
        subscription = await self.desk.subscribe(channel(name), mode, filters=filters, **kwargs)
        await self.outbox.deliver_due()
        self.chat.messages = [m for m in self.chat.messages if m.kind != "digest"]
        self.chat.requests.clear()
        return subscription

    async def publish(self, *items: NewItem) -> None:
        """What the poller does after analysing items."""
        await self.sink.publish(items)

    async def rows(self, name: str | None = None, kind: str = "alert") -> list[OutboxRecord]:
        """The outbox rows of a kind (of one channel)."""
        rows = await self.repos.outbox.records(channel(name) if name else None)
        return [row for row in rows if row.kind == kind]
