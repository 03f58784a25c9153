"""A program whose main module runs a WorkerPool (run by test_pool)."""

from __future__ import annotations

import asyncio
import json

from services.parser.pool import WorkerPool
from tests.parser import pool_dependency


async def main() -> None:
    # One item per worker: every call runs in a newly started worker.
    pool = WorkerPool(pool_dependency.where_imported, items_per_worker=1)
    try:
        runs = []
        for _ in range(3):
            (found,) = await pool.run(["<p>x</p>"])
            imported_in, worker = map(int, found.split())
            runs.append({"imported_in": imported_in, "worker": worker})
        print(json.dumps(runs))
    finally:
        pool.close()


if __name__ == "__main__":
    asyncio.run(main())
