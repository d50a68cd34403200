"""Python Procrastinate 3.10 on a subset of the benchmark workloads, for comparison.

Usage: BENCH_DSN=postgresql://… BENCH_N=5000 python procrastinate_bench.py
Prints a JSON object with the same summary keys as QueueBenchmark for: defer_sequential,
defer_batch_100, work_c1_listen_on, work_c10_listen_on, latency_listen (latency_p50_ms,
latency_p99_ms). Run it with the virtualenv that scripts/test creates
(.venv-reference/bin/python).

`python procrastinate_bench.py worker` runs a worker of concurrency 10 until killed instead:
QueueBenchmark's held_snapshot workload runs Python's worker through it that way.
"""

import asyncio
import json
import math
import os
import sys
import time

import procrastinate
import psycopg

DSN = os.environ["BENCH_DSN"]
N = int(os.environ.get("BENCH_N", "5000"))
app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=DSN))


@app.task(name="bench.noop")
async def noop(i):
    pass


arrivals = {}


@app.task(name="bench.ping")
async def ping(k):
    arrivals[k].set_result(time.monotonic())


async def latency():
    """An idle worker (concurrency 1, LISTEN on, polling 5 s); 200 times: defer a ping, wait
    for its body to start, sleep 20 ms. Nearest-rank p50 and p99, in milliseconds."""
    await reset()
    worker = asyncio.create_task(
        app.run_worker_async(concurrency=1, fetch_job_polling_interval=5, install_signal_handlers=False)
    )
    await asyncio.sleep(1)  # the worker's LISTEN is active by then
    latencies = []
    for k in range(200):
        arrivals[k] = asyncio.get_running_loop().create_future()
        start = time.monotonic()
        await ping.defer_async(k=k)
        latencies.append((await asyncio.wait_for(arrivals[k], 10) - start) * 1000)
        await asyncio.sleep(0.02)
    worker.cancel()
    try:
        await worker
    except asyncio.CancelledError:
        pass
    latencies.sort()
    rank = lambda p: latencies[max(0, math.ceil(p / 100 * len(latencies)) - 1)]
    return rank(50), rank(99)


async def reset(jobs=0):
    async with await psycopg.AsyncConnection.connect(DSN, autocommit=True) as connection:
        await connection.execute(
            "TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers, procrastinate_workers RESTART IDENTITY CASCADE"
        )
        for start in range(0, jobs, 1000):
            await connection.execute(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args) "
                "SELECT 'default', 'bench.noop', jsonb_build_object('i', i) FROM generate_series(%s::int, %s::int) AS i",
                (start, min(start + 1000, jobs) - 1),
            )
        await connection.execute("ANALYZE procrastinate_jobs")
        await connection.execute("CHECKPOINT")


async def main():
    summary = {}
    async with app.open_async():
        await reset()
        start = time.monotonic()
        for i in range(N):
            await noop.defer_async(i=i)
        summary["defer_sequential_jobs_per_s"] = N / (time.monotonic() - start)

        await reset()
        start = time.monotonic()
        for batch in range(0, N, 100):
            await noop.batch_defer_async(*({"i": i} for i in range(batch, min(batch + 100, N))))
        summary["defer_batch_100_jobs_per_s"] = N / (time.monotonic() - start)

        for concurrency in (1, 10):
            await reset(N)
            start = time.monotonic()
            await app.run_worker_async(concurrency=concurrency, wait=False, install_signal_handlers=False)
            summary[f"work_c{concurrency}_listen_on_jobs_per_s"] = N / (time.monotonic() - start)

        summary["latency_p50_ms"], summary["latency_p99_ms"] = await latency()
    print(json.dumps({"implementation": "python-procrastinate", "implementation_version": procrastinate.__version__, "params": {"n": N}, "summary": summary}, indent=2))


async def worker():
    """A worker of concurrency 10 until killed."""
    async with app.open_async():
        await app.run_worker_async(concurrency=10, install_signal_handlers=False)


asyncio.run(worker() if sys.argv[1:] == ["worker"] else main())
