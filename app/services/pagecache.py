"""Rendered pages kept in memory while the data they show is unchanged.

The busiest pages (the request form, the tour calendar, the tour and region maps) look the same for everyone of
one role and language until someone changes a tour, a request, an organisation, a module or a blackout. Every
transaction that writes one of those tables raises one counter in the database (`content_version`) *before* its
first such write and in the same transaction, so:
- a page rendered under the old count is never served once the change is committed, by any worker process;
- a rolled-back change leaves the count alone;
- on PostgreSQL the counter's row lock is taken before the transaction's first lock on a page table, so writers
  of page data queue on it one after the other (they are few: staff edits, form submissions, retention) rather
  than deadlock on it; the outbox, the scheduler and the audit log do not touch it.
Per-response values (CSRF token, CSP nonce, the form's submission key) are cut out of the cached copy and filled
in fresh for each response; see app/pages.py for the view side.
"""
from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from time import monotonic
from typing import Callable, Hashable

import sqlalchemy as sa

# Tables whose rows appear on a cached page. tests/test_pagecache.py renders every cached page and fails when one
# reads a table missing here (the user table is read for the login, and the role is part of every cache key).
PAGE_TABLES = frozenset({"tour", "visit", "leg", "unplaced", "visit_request", "request_window", "organisation",
                         "module", "blackout"})
NO_BUMP = "labtour_no_content_version"  # execution option for migrations: the counter's table may not exist yet

_DML = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)
_BUMP = ("INSERT INTO content_version (id, n) VALUES (1, 1) "
         "ON CONFLICT (id) DO UPDATE SET n = content_version.n + 1")
_VERSION = "SELECT n FROM content_version WHERE id = 1"
_VIEWER = 'SELECT u.role, u.active, v.n FROM "user" u LEFT JOIN content_version v ON v.id = 1 WHERE u.id = {}'
_BUMPED = "labtour_content_bumped"
MARK = "\x00fresh:{}\x00"  # control characters never survive a form (LabForm strips them), so no page holds one


@dataclass(frozen=True)
class Page:
    """A rendered page with its per-response values replaced by markers."""
    html: str
    kinds: tuple[str, ...]

    @classmethod
    def cut(cls, html: str, fresh: list[tuple[str, str]]) -> Page:
        kinds = []
        for kind, value in fresh:
            if value and value in html:
                html = html.replace(value, MARK.format(kind))
                kinds.append(kind)
        return cls(html, tuple(dict.fromkeys(kinds)))

    def fill(self, makers: dict[str, Callable[[], str]]) -> str:
        html = self.html
        for kind in self.kinds:
            html = html.replace(MARK.format(kind), makers[kind]())
        return html


class PageStore:
    """A bounded LRU of pages per key, each valid for the content version it was rendered under."""

    def __init__(self, size: int, reader: Reader):
        self.size = size
        self.reader = reader
        self._pages: OrderedDict[Hashable, tuple[int, Page]] = OrderedDict()
        self._lock = threading.Lock()
        self._memo: tuple[int, float] | None = None
        self.hits = self.misses = 0

    def get(self, key: Hashable, version: int) -> Page | None:
        with self._lock:
            entry = self._pages.get(key)
            if entry is None or entry[0] != version:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return entry[1]

    def put(self, key: Hashable, version: int, page: Page) -> None:
        with self._lock:
            self._pages[key] = (version, page)
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def version(self, max_age_s: float = 0.0) -> int | None:
        """The database's content version (None if it cannot be read); with max_age_s, a value this process read
        that long ago will do."""
        recent = self.recent_version(max_age_s) if max_age_s > 0 else None
        if recent is not None:
            return recent
        value = self.reader.version()
        if value is not None:
            self._memo = (value, monotonic())
        return value

    def recent_version(self, max_age_s: float) -> int | None:
        """The version this process read less than max_age_s ago, without asking the database; else None."""
        memo = self._memo
        return memo[0] if memo is not None and monotonic() - memo[1] < max_age_s else None

    def changed_here(self) -> None:
        """This process committed a change: its next look at the version goes to the database."""
        self._memo = None

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._memo = None


class Reader:
    """The reads of a cache hit, outside any transaction: one round trip, no BEGIN/ROLLBACK, no ORM.

    On PostgreSQL over one autocommit connection per process, taken out of the pool (a pooled checkout with its
    reset costs three times the query itself); elsewhere through the pool. A failing read returns None and the
    request takes the normal path; the connection is opened anew next time."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        self.direct = engine.dialect.name == "postgresql"
        self._conn = None
        self._pid = 0
        self._lock = threading.Lock()
        self._inherited: list = []
        sa.event.listen(engine, "engine_disposed", lambda _engine: self.close())

    def version(self) -> int | None:
        row = self._first(_VERSION)
        return None if row is False else (row[0] if row else 0)

    def viewer(self, user_id: int) -> tuple[str, bool, int] | None:
        """(role, active, content version) of a staff account; None if it does not exist or the read failed."""
        row = self._first(_VIEWER.format("%(id)s" if self.direct else ":id"), {"id": user_id})
        return (row[0], bool(row[1]), row[2] or 0) if row else None

    def _first(self, sql: str, params: dict | None = None):
        if not self.direct:
            try:
                with self.engine.connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT")
                    return conn.exec_driver_sql(sql, params or {}).first()
            except sa.exc.SQLAlchemyError:
                return False
        with self._lock:
            try:
                if self._conn is not None and self._pid != os.getpid():
                    # a forked child must not close its parent's connection (libpq would end the parent's session)
                    self._inherited.append(self._conn)
                    self._conn = None
                if self._conn is None:
                    proxy = self.engine.raw_connection()
                    proxy.detach()
                    self._conn, self._pid = proxy.dbapi_connection, os.getpid()
                    self._conn.autocommit = True
                return self._conn.execute(sql, params).fetchone()
            except Exception:
                self.close()
                return False

    def close(self) -> None:
        """Called when the engine is disposed, and after a failed read."""
        conn, self._conn = self._conn, None
        if conn is not None and self._pid == os.getpid():
            try:
                conn.close()
            except Exception:
                pass


def _raise(dbapi_connection) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(_BUMP)
    finally:
        cursor.close()


def install(engine: sa.Engine, store: PageStore) -> None:
    """Raise the content version with the first write to a page table in each transaction."""

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _bump(conn, cursor, statement, parameters, context, executemany):
        if conn.info.get(_BUMPED):
            return
        match = _DML.match(statement)
        if match is None or match.group(1).lower() not in PAGE_TABLES:
            return
        options = conn.get_execution_options()
        if options.get(NO_BUMP):
            return
        if options.get("isolation_level") == "AUTOCOMMIT" and context is not None:
            context.labtour_bump_after = True  # the write commits by itself: count it once it has
            return
        conn.info[_BUMPED] = True
        _raise(cursor.connection)

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _bump_after(conn, cursor, statement, parameters, context, executemany):
        if getattr(context, "labtour_bump_after", False):
            _raise(cursor.connection)
            store.changed_here()

    def _fresh_transaction(conn, *args):
        conn.info.pop(_BUMPED, None)

    @sa.event.listens_for(engine, "commit")
    def _committing(conn):
        if conn.info.pop(_BUMPED, None):
            store.changed_here()

    for name in ("begin", "rollback", "rollback_savepoint"):
        sa.event.listen(engine, name, _fresh_transaction)
