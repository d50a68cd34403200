"""Python Procrastinate 3.10 side of the interoperability tests.

Usage:
    python interop.py URL defer            defers the reference jobs; prints their ids
    python interop.py URL worker [CONC]    runs a worker until SIGTERM; tasks print what they do
    python interop.py URL worker-once      runs a worker until no job can be fetched
    python interop.py URL abort JOB_ID     asks a job to abort

The tasks have the names the Swift tests give theirs, so either side runs the other's jobs.
"""

import asyncio
import json
import signal
import sys
import time

import procrastinate

# Started from the Swift test runner, the process inherits a thread's blocked signal mask:
# unblock what a graceful stop needs.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})

app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=sys.argv[1]))


def emit(line):
    print(line, flush=True)


@app.task(name="sum", pass_context=True)
async def sum_task(context, a, b):
    emit(f"RAN sum {context.job.id} {json.dumps({'a': a, 'b': b}, sort_keys=True)}")


@app.task(name="echo", pass_context=True)
async def echo(context, **kwargs):
    emit(f"RAN echo {context.job.id} {json.dumps(kwargs, sort_keys=True)}")


@app.task(name="locked", pass_context=True)
async def locked(context, index):
    start = time.time()
    await asyncio.sleep(0)
    end = time.time()
    emit(f"RAN locked {context.job.id} {context.job.lock} {start} {end}")


@app.task(name="slow", pass_context=True)
async def slow(context):
    emit(f"STARTED slow {context.job.id}")
    await asyncio.sleep(600)


@app.task(name="flaky", pass_context=True, retry=procrastinate.RetryStrategy(max_attempts=3, wait=3600))
async def flaky(context, fail_in):
    emit(f"RAN flaky {context.job.id} attempts={context.job.attempts}")
    if fail_in == "python" and context.job.attempts == 0:
        raise ValueError("failing in Python")


async def main():
    mode = sys.argv[2]
    async with app.open_async():
        if mode == "defer":
            ids = [
                await sum_task.defer_async(a=3, b=5),
                *await sum_task.batch_defer_async({"a": 1, "b": 1}, {"a": 2, "b": 2}),
                await sum_task.configure(lock="L", queueing_lock="q", priority=9).defer_async(a=10, b=20),
                await sum_task.configure(schedule_in={"seconds": 2}).defer_async(a=100, b=200),
            ]
            emit("\n".join(str(i) for i in ids))
        elif mode == "worker":
            concurrency = int(sys.argv[3]) if len(sys.argv) > 3 else 1
            await app.run_worker_async(
                concurrency=concurrency, fetch_job_polling_interval=0.2, abort_job_polling_interval=0.2,
                shutdown_graceful_timeout=2,
            )
        elif mode == "worker-once":
            await app.run_worker_async(wait=False, fetch_job_polling_interval=0.2)
        elif mode == "abort":
            emit(str(await app.job_manager.cancel_job_by_id_async(int(sys.argv[3]), abort=True)))


asyncio.run(main())
