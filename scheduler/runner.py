"""Leader election around an APScheduler 3 with the SQLAlchemy job store."""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from . import jobs
from .lock import LeaderLock

log = logging.getLogger(__name__)
BERLIN = ZoneInfo("Europe/Berlin")
HEARTBEAT_S = 20
_started: dict[int, "Runner"] = {}
_guard = threading.Lock()


class Runner:
    """Waits for the leader lock, then runs the jobs until stopped or the lock is lost."""

    def __init__(self, app: Flask):
        self.app = app
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lock = LeaderLock(app, self.holder)
        self.scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        return self.scheduler is not None

    def start(self) -> "Runner":
        self._thread = threading.Thread(target=self.run, name="labtour-scheduler", daemon=True)
        self._thread.start()
        return self

    def run(self) -> None:
        """Block until stop(): lead when possible, keep the heartbeat, step down when the lock is lost."""
        while not self._stop.is_set():
            if self.scheduler is None:
                if self.lock.try_acquire():
                    self._start_jobs()
            elif not self.lock.heartbeat():
                log.warning("scheduler: leader lock lost; stopping the jobs")
                self._stop_jobs()
            self._stop.wait(HEARTBEAT_S)
        self._stop_jobs()
        self.lock.release()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def wake(self) -> None:
        """Run the outbox drain now (e.g. a confirmation was just queued)."""
        if self.scheduler is not None:
            try:
                self.scheduler.modify_job("drain", next_run_time=datetime.now(timezone.utc))
            except Exception:  # the job store is briefly busy: the next tick sends it anyway
                log.debug("scheduler: wake failed", exc_info=True)

    def _start_jobs(self) -> None:
        cfg = self.app.config["SCHEDULER"]
        rem = self.app.config["REMINDERS"]
        jobs.bind(self.app)
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=self.app.config["SQLALCHEMY_DATABASE_URI"])},
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone=BERLIN)
        now = datetime.now(timezone.utc)
        scheduler.add_job("scheduler.jobs:drain", IntervalTrigger(seconds=int(cfg["drain_seconds"])), id="drain",
                          replace_existing=True, next_run_time=now)
        scheduler.add_job("scheduler.jobs:enqueue", IntervalTrigger(minutes=int(cfg["enqueue_minutes"])),
                          id="enqueue", replace_existing=True, next_run_time=now)  # catch up at once after a stop
        scheduler.add_job("scheduler.jobs:digest",
                          CronTrigger(day_of_week=int(rem["digest_weekday"]) - 1, hour=int(rem["digest_hour"]),
                                      timezone=BERLIN),
                          id="digest", replace_existing=True, misfire_grace_time=2 * 86400)
        scheduler.add_job("scheduler.jobs:retention", CronTrigger(hour=int(cfg["retention_hour"]), timezone=BERLIN),
                          id="retention", replace_existing=True, misfire_grace_time=86400)
        scheduler.start()
        self.scheduler = scheduler
        log.info("scheduler: leading as %s", self.holder)

    def _stop_jobs(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None


def ensure_started(app: Flask) -> Runner:
    """Start this process's runner once (after a fork, the child starts its own)."""
    key = os.getpid()
    with _guard:
        runner = _started.get(key)
        if runner is None:
            runner = _started[key] = Runner(app).start()
            app.extensions["labtour_scheduler"] = runner
        return runner
