"""The emulator keeps what it acknowledged: SIGKILL during a stream of adds, then restart.

A real emulator subprocess (``python -m membrane_integrations emulator --db FILE``) takes a stream
of adds (waiting for each job) and then a burst of adds that do not wait, so that jobs are queued
or running; it is killed with SIGKILL in the middle. Then:

* the file passes ``PRAGMA integrity_check`` as it is (no repair);
* after a restart on the same file, every add the client saw ``completed`` is there, under the
  id the client was given;
* every job the client was given an id for ends ``completed`` or ``failed``; none is left
  ``queued`` or ``processing``, and every completed job's memory exists exactly once.

The figures (adds, jobs in flight at the kill, recovered) are printed (``pytest -s``).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from membrane_integrations.core.errors import IngestFailedError, MembraneIntegrationsError
from membrane_integrations.core.retry import RetryPolicy
from membrane_integrations.emulator.engine import Engine
from membrane_integrations.membrain import AsyncMembrainClient, MembrainClient, PollPolicy

pytestmark = pytest.mark.live

ROOT = Path(__file__).resolve().parents[2]
KEY = "emu-crash-key"
SCOPE = ["container.crash"]
STREAMED, BURST = 30, 60
POLL = PollPolicy(initial=0.005, maximum=0.05)
NO_RETRY = RetryPolicy(max_retries=0)


def _start(db: Path, log: Path) -> tuple[subprocess.Popen[str], str]:
    args = ["--port", "0", "--db", str(db), "--api-key", KEY, "--log-level", "warning"]
    with log.open("a") as err:  # the child keeps its own descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "membrane_integrations", "emulator", *args],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=ROOT,
            env=dict(os.environ),
        )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # blocks until the server printed its URL (or exited)
    if "listening on" not in first:
        proc.kill()
        raise AssertionError(f"emulator CLI did not start: {first!r} {log.read_text()[-2000:]}")
    return proc, first.split("listening on ", 1)[1].split()[0]


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # the CLI stops cleanly on Ctrl-C
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.stdout is not None
    proc.stdout.close()


def _fact(i: int) -> str:
    return f"Crash fact {i:04d}: parcel {i * 7919 % 10007} waits on shelf {i % 37} of row {i % 11}"


def _statuses(db: Path) -> Counter[str]:
    with sqlite3.connect(db) as con:
        return Counter(dict(con.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status")))


async def _burst(url: str, first: int) -> dict[str, str]:
    """``BURST`` adds at once, not waiting for their jobs: content -> job id."""
    async with AsyncMembrainClient(KEY, base_url=url, retry_policy=NO_RETRY) as client:
        contents = [_fact(first + i) for i in range(BURST)]
        accepted = await asyncio.gather(*(client.add(c, scope=SCOPE, wait=False) for c in contents))
    return {c: a.job_id for c, a in zip(contents, accepted, strict=True)}


def test_sigkill_during_adds_keeps_every_completed_add(tmp_path: Path) -> None:
    db, log = tmp_path / "emulator.sqlite", tmp_path / "emulator.log"
    proc, url = _start(db, log)
    completed: dict[str, str] = {}
    stream_errors: Counter[str] = Counter()
    enough, stop = threading.Event(), threading.Event()

    def stream() -> None:
        with MembrainClient(KEY, base_url=url, retry_policy=NO_RETRY, poll_policy=POLL) as c:
            i = 0
            while not stop.is_set():
                try:
                    result = c.add(_fact(i), scope=SCOPE, wait_timeout=2.0)
                except MembraneIntegrationsError as exc:  # the server is gone
                    stream_errors[type(exc).__name__] += 1
                    return
                completed[_fact(i)] = result.memory_id
                if len(completed) >= STREAMED:
                    enough.set()
                i += 1

    writer = threading.Thread(target=stream, name="crash-stream")
    try:
        writer.start()
        assert enough.wait(60), "the stream of adds did not get going"
        accepted = asyncio.run(_burst(url, first=10_000))
        proc.send_signal(signal.SIGKILL)  # mid-stream: the writer is still adding
        proc.wait(timeout=10)
    finally:
        stop.set()
        writer.join(30)
        _stop(proc)
    assert not writer.is_alive()

    with sqlite3.connect(db) as con:  # opens as it is, with no repair
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    at_kill = _statuses(db)
    in_flight = at_kill["queued"] + at_kill["processing"]

    proc, url = _start(db, log)
    ended: Counter[str] = Counter()
    try:
        with MembrainClient(KEY, base_url=url, poll_policy=POLL) as client:
            got = client.get_many(list(completed.values()))
            assert {m.id: m.content for m in got} == {v: k for k, v in completed.items()}
            for job_id in accepted.values():
                try:
                    client.wait_for_job(job_id, wait_timeout=30.0)
                    ended["completed"] += 1
                except IngestFailedError:
                    ended["failed"] += 1
            stored = client.count(scope=[r"^container\.crash$"])
    finally:
        _stop(proc)

    after = _statuses(db)
    assert after["queued"] == after["processing"] == 0, after
    with sqlite3.connect(db) as con:
        contents = Counter(row[0] for row in con.execute("SELECT content FROM memories"))
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert all(n == 1 for n in contents.values()), "a memory stored twice"
    assert stored == after["completed"] == sum(contents.values())
    print(
        f"\nemulator SIGKILL: {len(completed)} adds seen completed before the kill (all there "
        f"after restart), {BURST} queued without waiting; at the kill {in_flight} jobs were "
        f"queued or processing ({dict(at_kill)}); after restart {dict(ended)} of the burst, "
        f"0 stuck, {stored} memories = completed jobs; stream ended with {dict(stream_errors)}"
    )


def test_a_job_left_processing_is_run_again_at_start(tmp_path: Path) -> None:
    """What SIGKILL leaves mid-job (the row says ``processing``, nothing else was written)."""
    db = str(tmp_path / "engine.sqlite")
    engine = Engine(db_path=db)
    tenant = engine.tenant_id(KEY)
    job = engine.submit_ingest(tenant, _fact(1), SCOPE, None)["job_id"]
    assert engine.wait_idle()
    engine.close()
    with sqlite3.connect(db) as con:  # the state a kill between the two writes would leave
        con.execute("DELETE FROM memories")
        con.execute("UPDATE jobs SET status='processing', result=NULL WHERE id=?", (job,))
    engine = Engine(db_path=db)
    try:
        assert engine.recovered_jobs == 1
        assert engine.wait_idle()
        done = engine.get_job(tenant, job)
        assert done["status"] == "completed"
        assert engine.count(tenant) == 1
    finally:
        engine.close()
