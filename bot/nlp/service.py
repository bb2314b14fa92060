"""The async face of the extractor: reads full articles when worth it, runs spaCy off the loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.core.models import NewItem
from bot.nlp import gate
from bot.nlp.extract import Article, Extractor

log = logging.getLogger(__name__)

ReadArticle = Callable[[str], Awaitable[str | None]]


class SummitAnalyzer:
    """Implements the core's ItemAnalyzer with one spaCy pipeline on one worker thread.

    A single thread owns the pipeline, so spaCy never runs on the event loop and never runs
    twice at once; the model loads on first use, inside that thread.
    """

    def __init__(
        self, model: str, batch_size: int = 32, read_article: ReadArticle | None = None
    ) -> None:
        self._model = model
        self._batch_size = batch_size
        self._read_article = read_article
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsbot-nlp")
        self._extractor: Extractor | None = None

    def load(self) -> None:
        """Load the pipeline now (in the calling thread) so a missing model fails at start."""
        if self._extractor is None:
            self._extractor = Extractor(self._model, self._batch_size)

    async def start(self) -> None:
        """Load the pipeline on the worker thread before the first poll."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self.load)

    async def analyse(self, items: Sequence[NewItem]) -> list[dict[str, Any]]:
        """One contract JSON object per item, in order."""
        articles = await asyncio.gather(*(self._article(item) for item in items))
        analyses = await asyncio.get_running_loop().run_in_executor(
            self._executor, self._run, articles
        )
        return [analysis.to_json() for analysis in analyses]

    def close(self) -> None:
        """Stop the worker thread."""
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _run(self, articles: list[Article]) -> list[Any]:
        self.load()
        assert self._extractor is not None
        return self._extractor.analyse(articles)

    async def _article(self, item: NewItem) -> Article:
        """The item as an article, with the page's full text when the teaser passes the gate.

        Only items about to be announced are worth a page fetch; a new feed's back catalogue
        is judged on its teasers.
        """
        text = item.summary
        read, link = self._read_article, item.link
        if read is not None and link and item.pending and gate.passes(item.title, text):
            page = await read(link)
            if page and len(page) > len(text):
                text = page
        published = (item.published or item.first_seen).date()
        return Article(id=str(item.id), title=item.title, text=text, published=published)
