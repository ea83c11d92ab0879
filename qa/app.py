"""The composition root: builds the parts once and hands each face what it needs.

Settings -> Embedder (one per process, loaded lazily) -> QAService (reads: the served version)
-> Library (writes: uploads, deletes, rebuilds) and Asker (the one way to ask, with its answer
workers). The API (``qa.api``), the chat (``ui``) and the CLI (``qa.cli``) receive a ``QAApp``;
none of them builds or fishes out another's parts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from qa.answer_pool import AnswerPool
from qa.asking import Asker
from qa.config import Settings
from qa.embedding import Embedder
from qa.feedback import FeedbackDesk, FeedbackStore
from qa.library import Library
from qa.priority import favour_event_loop
from qa.reconcile import Reconciler
from qa.revisions import RevisionLookup
from qa.service import QAService
from qa.store import opens_in_many_processes
from qa.watch import DocsWatch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QAApp:
    """Everything the faces share, built once by ``compose``."""

    settings: Settings
    embedder: Embedder
    service: QAService  # reads
    library: Library  # writes
    asker: Asker  # the one way to ask
    revisions: RevisionLookup  # the document texts citations point into
    reconciler: Reconciler  # the docs folder and the index kept in step
    feedback: FeedbackDesk  # readers' verdicts, outside the index
    watch: DocsWatch  # the docs folder indexing itself (QA_WATCH)

    def health(self) -> dict[str, Any]:
        """/health: what is served, the writer's progress, the answer workers running, the
        readers' feedback so far.

        The writers' statuses are read before what is served: a write serves its version before
        it says it is done, so a reply saying "done" always counts the new version's documents
        (read the other way round, a rebuild finishing between the two reads would pair "done"
        with the old counts)."""
        rebuild = self.library.status.as_dict()
        reconciled = self.reconciler.last.as_dict()
        watch = self.watch.status.as_dict()
        return {
            **self.service.health(),
            "rebuild": rebuild,
            "answer_workers": self.asker.workers,
            "reconciled": reconciled,
            "watch": watch,
            "feedback": self.feedback.store.counts(),
        }

    async def start(self) -> None:
        """Start serving: the event loop first for the CPU, the index and model loaded, the
        answer workers started, the docs folder compared with the index (now, in the background,
        and every ``reconcile_every_s``)."""
        favour_event_loop()
        await self.asker.start()
        self.reconciler.start(self.settings.reconcile_every_s)

        self.watch.start()  # after the index is loaded: changes are compared with it

    async def close(self) -> None:
        self.watch.stop()
        self.reconciler.stop()
        await self.asker.close()


def compose(settings: Settings, embedder: Embedder | None = None) -> QAApp:
    """The parts over ``settings``; ``embedder`` is shared if given (tests pass the session's).

    Answer workers (``settings.answer_workers``) start only with ``QAApp.start``, i.e. in a
    server: a command-line question is answered in its own process."""
    embedder = embedder or Embedder.from_settings(settings)
    service = QAService(settings, embedder)
    workers = settings.answer_workers
    if workers and not opens_in_many_processes(settings):
        log.info("a Milvus Lite file is open in one process only: answering without workers")
        workers = 0
    # Workers start, and dead ones are replaced, on the version served at that moment.
    pool = (
        AnswerPool(settings, workers, lambda: service.retriever.index.version) if workers else None
    )
    library = Library(service)
    return QAApp(
        settings=settings,
        embedder=embedder,
        service=service,
        library=library,
        asker=Asker(service, pool, settings.answer_concurrency),
        revisions=RevisionLookup(service.store, lambda: service.retriever.data),
        reconciler=Reconciler(library),
        feedback=FeedbackDesk(FeedbackStore(settings.data_dir)),
        watch=DocsWatch(library, settings.watch),
    )
