"""The real ``newsbot run --show-all`` on the terminal, killed at three stages: 0 lost,
0 doubled, 0 torn.

The full soak (eight stages per round, both backends) is ``benchmarks/crash_soak.py
--platform terminal``; this run keeps the kills nearest to the print: right after new items
are stored, during the restart's recovery of them, and as soon as a block appears.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.delivery.termrig import TerminalSoak


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_terminal_killed_around_printing(tmp_path: Path) -> None:
    soak = TerminalSoak(
        f"sqlite+aiosqlite:///{tmp_path / 'newsbot.db'}",
        tmp_path,
        ["stored", "recovery", "printing"],
    )
    result = await soak.run()
    assert result.missed_triggers == {}, result.log_tail
    assert result.lost == [], f"lost {result.lost}\n{result.log_tail}"
    assert result.doubled == [], f"doubled {result.doubled}\n{result.log_tail}"
    assert result.torn == [], f"torn {result.torn}"
