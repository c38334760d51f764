"""The filing desk (受理台): filings that arrive together are filed together.

Every filing appends to the audit ledger, and the ledger has one writer at a time
(:mod:`hukou.audit.ledger`): filed one per transaction, fifty windows at once wait in
line for the lock, each holding it through a dozen round trips and a commit. The desk
is a group commit (:class:`~hukou.db.batcher.Batcher`): one thread takes every filing
waiting and files them in one transaction
(:meth:`~hukou.casework.service.Casework.file_many`: one lock, one read of the
ledger's head, one query per table), then reads their cases back in one go.

Each filing is still all or nothing on its own: if a batch fails, its filings are
filed again one by one, so a bad filing fails alone and the others are kept. A filing
is answered only after its transaction committed.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine

from hukou.casework.service import Casework
from hukou.casework.store import CaseNotFoundError, Filing, check_filing
from hukou.casework.views import CaseView, case_views
from hukou.db import session_scope
from hukou.db.batcher import Batcher

__all__ = ["FilingDesk"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Filed:
    filing: Filing
    supplied: frozenset[str]


class FilingDesk:
    """Files what :meth:`submit` is given, in batches, on a thread of its own."""

    def __init__(
        self, engine: Engine, casework: Casework, clock: Callable[[], datetime.datetime]
    ) -> None:
        self._engine, self._casework, self._clock = engine, casework, clock
        self._batcher: Batcher[_Filed, CaseView] = Batcher(self._file, name="hukou-filing-desk")

    def submit(
        self, filing: Filing, supplied: frozenset[str] = frozenset()
    ) -> concurrent.futures.Future[CaseView]:
        """File ``filing``; the future holds the case as stored once it is committed, or
        the error that refused it (a malformed filing is refused at once;
        :class:`~hukou.db.batcher.BatcherClosedError` once the desk is closed)."""
        check_filing(filing)
        return self._batcher.submit(_Filed(filing, supplied))

    def close(self) -> None:
        """Take no more filings; those already given are filed first."""
        self._batcher.close()

    def _file(self, batch: Sequence[_Filed]) -> list[CaseView | BaseException]:
        """File ``batch`` in one transaction; if that fails, each filing on its own."""
        now = self._clock()
        try:
            with session_scope(self._engine) as db:
                cases = self._casework.file_many(
                    db, [(one.filing, one.supplied) for one in batch], now=now
                )
                ids = [case.id for case in cases]
        except Exception as error:
            if len(batch) == 1:
                return [error]
            return [answer for one in batch for answer in self._file([one])]
        try:
            with session_scope(self._engine) as db:
                views = {view.id: view for view in case_views(db, ids, today=now.date())}
        except Exception as error:
            log.exception("filed %d cases but could not read them back", len(ids))
            return [error] * len(ids)
        return [views.get(case_id) or CaseNotFoundError(case_id) for case_id in ids]
