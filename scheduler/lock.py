"""Only one scheduler at a time: a PostgreSQL advisory lock, or on SQLite a lock row with a heartbeat."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from app.extensions import db
from app.models import SchedulerLock

NAME = "scheduler"
ADVISORY_KEY = 0x4C6162546F7572  # "LabTour"


class LeaderLock:
    def __init__(self, app: Flask, holder: str):
        self.app = app
        self.holder = holder[:120]
        with app.app_context():
            self.pg = db.engine.dialect.name == "postgresql"
        self._conn: sa.Connection | None = None
        self._engine: sa.Engine | None = None

    def try_acquire(self) -> bool:
        """Become the leader if nobody else is; True if this process leads now."""
        with self.app.app_context():
            if self.pg:
                if self._conn is None:
                    self._engine = sa.create_engine(db.engine.url, poolclass=NullPool)
                    conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                    if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar():
                        conn.close()
                        return False
                    self._conn = conn
                return self.heartbeat()
            return self._sqlite_claim()

    def heartbeat(self) -> bool:
        """Record that the leader is alive; False when leadership was lost (the caller must stop its jobs)."""
        with self.app.app_context():
            if not self.pg:
                return self._sqlite_claim()
            try:
                assert self._conn is not None
                self._conn.execute(sa.text("SELECT 1"))
            except (SQLAlchemyError, AssertionError):
                self.release()
                return False
            now = datetime.now(timezone.utc)
            row = db.session.get(SchedulerLock, NAME)
            if row is None:
                db.session.add(SchedulerLock(name=NAME, holder=self.holder, acquired_at=now, heartbeat_at=now))
            else:
                if row.holder != self.holder:
                    row.holder, row.acquired_at = self.holder, now
                row.heartbeat_at = now
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
            return True

    def _sqlite_claim(self) -> bool:
        now = datetime.now(timezone.utc)
        stale = now - timedelta(seconds=float(self.app.config["SCHEDULER"]["lock_stale_s"]))
        try:
            taken = db.session.execute(
                sa.update(SchedulerLock).where(SchedulerLock.name == NAME,
                                               sa.or_(SchedulerLock.holder == self.holder,
                                                      SchedulerLock.heartbeat_at < stale))
                .values(holder=self.holder, heartbeat_at=now)).rowcount
            if not taken:
                if db.session.get(SchedulerLock, NAME) is not None:
                    db.session.rollback()
                    return False
                db.session.add(SchedulerLock(name=NAME, holder=self.holder, acquired_at=now, heartbeat_at=now))
            db.session.commit()
            return True
        except (IntegrityError, OperationalError):
            db.session.rollback()
            return False

    def release(self) -> None:
        with self.app.app_context():
            if self.pg:
                if self._conn is not None:
                    try:
                        self._conn.close()
                    except SQLAlchemyError:
                        pass
                    self._conn = None
                if self._engine is not None:
                    self._engine.dispose()
                    self._engine = None
                return
            db.session.execute(sa.delete(SchedulerLock).where(SchedulerLock.name == NAME,
                                                              SchedulerLock.holder == self.holder))
            db.session.commit()


def heartbeat_age(now: datetime | None = None) -> float | None:
    """Seconds since the scheduler last said it was alive (None: never ran); for /healthz."""
    row = db.session.get(SchedulerLock, NAME)
    if row is None:
        return None
    return ((now or datetime.now(timezone.utc)) - row.heartbeat_at).total_seconds()
