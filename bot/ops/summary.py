"""What a poll cycle found, in words: how many feeds answered, failed (by reason), are disabled.

With no network every feed fails; "17 feed(s) polled, 0 new item(s)" hid that, so the summary
leads with the feeds that answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.core.models import FeedInfo

if TYPE_CHECKING:
    from bot.ingest.poll import CycleReport

ANSWERED = ("new", "unchanged", "not_modified")


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """Counts over the watched feeds, for /healthz."""

    total: int
    answering: int
    failing: int
    disabled: int

    @property
    def none_answering(self) -> bool:
        """Feeds are watched, some were polled, and not one of them answers."""
        return self.total > self.disabled and self.answering == 0 and self.failing > 0


def feed_health(feeds: Sequence[FeedInfo]) -> FeedHealth:
    """Which feeds answer now: a success since their last failure, or failing, or disabled."""
    disabled = sum(feed.disabled_reason is not None for feed in feeds)
    enabled = [feed for feed in feeds if feed.disabled_reason is None]
    failing = sum(feed.consecutive_failures > 0 for feed in enabled)
    answering = sum(
        feed.consecutive_failures == 0 and feed.last_success_at is not None for feed in enabled
    )
    return FeedHealth(len(feeds), answering, failing, disabled)


def cycle_summary(report: CycleReport, feeds: Sequence[FeedInfo]) -> str:
    """One line, plus one per failed feed, e.g. ``17 feed(s): 0 answered, 17 failed (...)``."""
    answered = sum(report.outcomes[name] for name in ANSWERED)
    failed = report.outcomes["failed"]
    disabled = sum(feed.disabled_reason is not None for feed in feeds)
    parts = [f"{answered} answered"]
    if failed:
        reasons = ", ".join(f"{count} {reason}" for reason, count in report.failures.most_common())
        parts.append(f"{failed} failed ({reasons})" if reasons else f"{failed} failed")
    if report.outcomes["skipped"]:
        parts.append(f"{report.outcomes['skipped']} not due")
    parts.append(f"{disabled} disabled")
    lines = [
        f"polled {report.feeds} feed(s) in {report.seconds:.1f} s: {', '.join(parts)}; "
        f"{report.new_items} new item(s) announced"
    ]
    if report.feeds and not answered:
        lines.append("  no feed answered: check the network, a proxy, or the feed addresses")
    for url, error in sorted(report.errors.items()):
        lines.append(f"  failed: {error}" if url in error else f"  failed: {url}: {error}")
    return "\n".join(lines)
