"""A program whose main module extracts with an ExtractorPool (run by test_extract)."""

from __future__ import annotations

import asyncio
import json

from services.parser.extract import ExtractorPool
from tests.parser import pool_dependency


async def main() -> None:
    # One task per worker: every extraction runs in a newly started worker.
    pool = ExtractorPool(workers=1, tasks_per_worker=1, function=pool_dependency.where_imported)
    try:
        runs = []
        for _ in range(3):
            found = await pool.extract("<p>x</p>")
            assert found is not None
            imported_in, worker = map(int, found.text.split())
            runs.append({"imported_in": imported_in, "worker": worker})
        print(json.dumps(runs))
    finally:
        pool.close()


if __name__ == "__main__":
    asyncio.run(main())
