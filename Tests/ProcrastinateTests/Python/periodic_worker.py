"""Runs a Python Procrastinate 3.10 worker with an every-second periodic task.

Usage: python periodic_worker.py POSTGRES_URL SECONDS
The task is named "every_second", like the Swift side's, so both schedulers defer the same ticks.
"""

import asyncio
import sys

import procrastinate

app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=sys.argv[1]))


@app.periodic(cron="* * * * * *")
@app.task(name="every_second")
async def every_second(timestamp: int):
    pass


async def main():
    async with app.open_async():
        worker = asyncio.create_task(app.run_worker_async(concurrency=2, install_signal_handlers=False))
        await asyncio.sleep(float(sys.argv[2]))
        worker.cancel()
        try:
            await worker
        except asyncio.CancelledError:
            pass


asyncio.run(main())
