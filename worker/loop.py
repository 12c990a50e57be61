"""The worker loop: claim, run attempts concurrently, renew leases, shut down gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from common.agents.registry import AgentRegistry
from common.clock import Clock, SystemClock
from common.domain import Execution
from common.errors import StoreUnavailable
from common.metrics import Metrics
from common.settings import Settings
from common.store.base import Store
from worker.attempt import AttemptRunner, RunningAttempt, StopReason
from worker.janitor import SWEEP_INTERVAL, CheckpointJanitor
from worker.scheduler import Scheduler

log = logging.getLogger("agentfleet.worker")


def make_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{os.urandom(3).hex()}"


class Worker:
    """One stateless worker: any number of them may share a store.

    `run()` claims due executions while it has free slots (re-polling at once while it finds
    work, waiting up to `poll_interval` when idle or until `wake()`), runs each attempt as a
    task, and renews every held lease in a heartbeat side task; with a checkpointer among its
    resources, a janitor side task deletes the checkpoints nobody will resume. `stop()` begins
    a graceful shutdown: no more claims, `shutdown_grace` seconds for attempts to finish, then
    the rest is released to PENDING at once.
    """

    def __init__(
        self,
        store: Store,
        registry: AgentRegistry,
        settings: Settings,
        *,
        worker_id: str | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        resources: dict[str, Any] | None = None,
        on_terminal: Callable[[str], Awaitable[None]] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.worker_id = worker_id or make_worker_id()
        self.clock = clock or SystemClock()
        self.concurrency = settings.concurrency
        self.metrics = metrics or Metrics()
        self.runner = AttemptRunner(
            store=store,
            registry=registry,
            policy=settings.retry_policy,
            clock=self.clock,
            rng=rng or random.Random(),
            worker_id=self.worker_id,
            attempt_timeout=settings.attempt_timeout,
            resources=resources if resources is not None else {},
            on_terminal=on_terminal,
            metrics=self.metrics,
        )
        self.scheduler = Scheduler(store, self.clock)
        saver = self.runner.resources.get("checkpointer")
        retention = timedelta(hours=settings.checkpoint_retention_hours)
        self.janitor = (
            None if saver is None else CheckpointJanitor(store, saver, self.clock, retention)
        )
        self.inflight: dict[str, RunningAttempt] = {}
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.claimed = 0

    # --- public ------------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for work now (a submit landed in this process)."""
        self._wake.set()

    def stop(self) -> None:
        """Begin graceful shutdown; `run()` returns once everything is finished or released."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        log.info("worker %s started (concurrency %d)", self.worker_id, self.concurrency)
        side_tasks = [
            asyncio.create_task(self._heartbeat_loop(), name="heartbeat"),
            asyncio.create_task(self._schedule_loop(), name="schedules"),
        ]
        if self.janitor is not None:
            janitor = self._janitor_loop(self.janitor)
            side_tasks.append(asyncio.create_task(janitor, name="checkpoint-janitor"))
        try:
            await self._claim_loop()
            await self._drain()
        finally:
            for task in side_tasks:
                task.cancel()
            await asyncio.gather(*side_tasks, return_exceptions=True)
        log.info("worker %s stopped", self.worker_id)

    async def heartbeat_once(self) -> None:
        """Renew every held lease; interrupt attempts whose lease is lost or cancel requested."""
        for running in list(self.inflight.values()):
            if running.finishing:
                continue
            renewal = await self.store.renew_lease(
                running.claim, self.clock.now(), self.settings.lease_seconds
            )
            if renewal is None:
                log.warning("lost the lease of %s; stopping that attempt", running.claim)
                running.interrupt(StopReason.LOST)
            elif renewal.cancel_requested:
                running.interrupt(StopReason.CANCEL)

    async def claim_once(self) -> int:
        """Claim up to the free slots (at most one batch); start an attempt for each."""
        batch = self._batch_size()
        if batch <= 0:
            return 0
        conflicts_before = self.store.claim_conflicts
        claimed = await self.store.claim_next(
            self.worker_id,
            self.clock.now(),
            self.settings.lease_seconds,
            batch,
            tenant_cap=self.settings.tenant_concurrency,
        )
        self.metrics.claim_conflicts.inc(self.store.claim_conflicts - conflicts_before)
        for execution in claimed:
            self.metrics.claims.labels(execution.agent).inc()
            self._start(execution)
        self.claimed += len(claimed)
        return len(claimed)

    # --- internals ---------------------------------------------------------------------------

    def _batch_size(self) -> int:
        return min(self.concurrency - len(self.inflight), self.settings.claim_batch)

    async def _claim_loop(self) -> None:
        while not self._stopping.is_set():
            asked = self._batch_size()
            try:
                found = await self.claim_once()
            except StoreUnavailable as exc:
                log.warning("store unavailable while claiming: %s", exc)
                found = 0
            if found and found == asked and self._batch_size() > 0:
                continue  # a full batch: more may be due, poll again at once
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval)

    def _start(self, execution: Execution) -> None:
        running = RunningAttempt(
            execution=execution, claim=execution.claim(), started_at=self.clock.now()
        )
        self.inflight[execution.id] = running
        log.info(
            "claimed %s attempt %d",
            execution.id,
            execution.executions,
            extra={
                "execution_id": execution.id,
                "attempt": execution.executions,
                "worker_id": self.worker_id,
                "tenant": execution.tenant,
                "agent": execution.agent,
                "outcome": "claimed",
            },
        )
        running.task = asyncio.create_task(self.runner.run(running), name=f"attempt-{execution.id}")
        running.task.add_done_callback(lambda _t: self._done(execution.id))

    def _done(self, execution_id: str) -> None:
        self.inflight.pop(execution_id, None)
        self._wake.set()  # a slot is free

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            try:
                await self.heartbeat_once()
            except StoreUnavailable as exc:
                log.warning("heartbeat failed: %s", exc)
            except Exception:
                log.exception("heartbeat failed")

    async def _schedule_loop(self) -> None:
        """Fire due schedules; every worker does, the optimistic claim of each tick decides."""
        while True:
            try:
                if await self.scheduler.fire_due():
                    self.wake()
            except StoreUnavailable as exc:
                log.warning("firing schedules failed: %s", exc)
            except Exception:
                log.exception("firing schedules failed")
            await asyncio.sleep(self.settings.poll_interval)

    async def _janitor_loop(self, janitor: CheckpointJanitor) -> None:
        """Sweep checkpoints every few minutes, the first time at a random point of the first
        interval, so that a fleet started together does not sweep together."""
        delay = random.Random(self.worker_id).uniform(0, SWEEP_INTERVAL)
        while True:
            await asyncio.sleep(delay)
            delay = SWEEP_INTERVAL
            try:
                await janitor.sweep()
            except StoreUnavailable as exc:
                log.warning("checkpoint sweep failed: %s", exc)
            except Exception:
                log.exception("checkpoint sweep failed")

    async def _drain(self) -> None:
        tasks = [r.task for r in self.inflight.values() if r.task is not None]
        if not tasks:
            return
        log.info("waiting up to %.1fs for %d attempts", self.settings.shutdown_grace, len(tasks))
        _, pending = await asyncio.wait(tasks, timeout=self.settings.shutdown_grace)
        for running in list(self.inflight.values()):
            running.interrupt(StopReason.RELEASE)
        if pending:
            log.info("released %d unfinished executions", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)
