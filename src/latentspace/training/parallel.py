"""Trainings side by side in worker processes (a search's trials, a β sweep's VAEs): how the processes start and
how many threads each gets. On 2 cores, two trainings at a time with a thread each took 0.68x the time of one
at a time with two (benchmarks/both_cores.py)."""
from __future__ import annotations

import multiprocessing
import os


def worker_context(*preload: str):
    """forkserver where there is one: workers start from a clean process that imported torch and Lightning (and
    the `preload` modules) once; a plain fork of a process that already trained is not safe with OpenMP, and
    spawn re-imports everything."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([*preload, "latentspace.training.trainer"])
        return ctx
    return multiprocessing.get_context("spawn")


def threads_per_worker(workers: int) -> int:
    """This machine's cores shared among `workers` processes (at least one thread each)."""
    return max(1, (os.cpu_count() or 1) // workers)
