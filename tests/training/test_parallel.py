"""Worker processes for trainings side by side: a clean start method and a fair share of the cores."""
from __future__ import annotations

import os

from latentspace.training.parallel import threads_per_worker, worker_context


def test_workers_start_clean_never_by_a_plain_fork():
    assert worker_context("latentspace.commands.beta_sweep").get_start_method() in ("forkserver", "spawn")


def test_each_worker_gets_its_share_of_the_cores_and_at_least_one_thread():
    cores = os.cpu_count() or 1
    assert threads_per_worker(1) == cores and threads_per_worker(cores * 4) == 1
    assert threads_per_worker(2) == max(1, cores // 2)
