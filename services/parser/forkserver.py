"""Imported by the extraction forkserver (a preload): work every worker then inherits.

Workers are forked from the forkserver and replaced when their memory or their count of
documents passes its limit. trafilatura pays one-time costs lazily on the first pages it
sees (justext's stoplists of every language, dateparser's language data): about 0.5 s of CPU
per worker. Paid here once, they are shared by every worker forked afterwards, as are the
language model and the furniture list.
"""

from __future__ import annotations

import gc

from services.parser.extract import warm_up
from services.parser.orphans import in_forkserver
from services.parser.worker import prepare

if in_forkserver():
    warm_up()
    prepare()
    # What is loaded by now lives as long as any worker: out of the collector's generations,
    # full collections in the workers no longer walk it (0.1 ms of GC per page, 0.02 after).
    gc.freeze()
