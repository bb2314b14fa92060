"""The real ``newsbot run`` killed with SIGKILL at representative stages: 0 lost, 0 doubled.

The full soak (seven stages per platform and backend, ≥ 20 kills) is benchmarks/crash_soak.py;
this run keeps the riskiest kill points in the suite (each life costs a start of the bot, about
10 s on a quiet machine): a post Discord answered before the outbox recorded it, then the
restart killed in its reconciliation, with Discord's nonces forgotten each time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.delivery.crashrig import Soak


def check(soak: Soak) -> None:
    result = soak.result
    assert result.missed_triggers == {}, result.log_tail
    assert result.lost == [], f"lost {result.lost}\n{result.log_tail}"
    assert result.doubled == [], f"doubled {result.doubled}\n{result.log_tail}"
    assert result.deliver_after_restart < 60, result.last_by_channel
    assert result.max_spread < 2.0, "a hung or rate-limited channel held up the others"
    assert result.gone_posts == 0


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_discord_killed_after_answering_and_during_recovery(tmp_path: Path) -> None:
    soak = Soak(
        "discord",
        f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}",
        tmp_path,
        ["answered", "recovery"],
    )
    await soak.run()
    check(soak)
