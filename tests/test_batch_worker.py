"""A worker of the batch runs dozens of notebooks: nothing may pile up from one to the next.

nbclient stops the channels of the kernel client it makes for a notebook only when it
owns the kernel manager; with the batch's warm kernel it does not, and every notebook
left four channel threads and their ZeroMQ sockets running (the worker grew from 161
to 550 MiB over 50 reports). This runs three notebooks in this process, as a worker
does, and counts the threads left.
"""

from __future__ import annotations

import threading

import pytest

from avs_eval import execution, kernels, paths, planning
from avs_eval.context import build_context, save_context, slug
from avs_eval.sources import DataSource

MINI = paths.PROJECT_ROOT / "tests" / "fixtures" / "mini"


@pytest.fixture
def warm_kernel(tmp_path, monkeypatch):
    source = DataSource(MINI / "structures.csv", MINI / "reponses.csv")
    save_context(build_context(source, 2), tmp_path / "contexte.pkl")
    monkeypatch.setenv(paths.CONTEXT_ENV, str(tmp_path / "contexte.pkl"))
    kernels.launch_warm()
    kernels.warm_up()
    yield source
    kernels.stop_all()


@pytest.mark.lent
def test_notebooks_in_a_row_leave_no_thread_behind(warm_kernel, tmp_path):
    source = warm_kernel
    counts = []
    for name in ("Lyon", "Villeurbanne", "Lyon"):
        folder = tmp_path / slug(name)
        parameters = {
            "annee": 2024,
            "territoire": name,
            "fichier_structures": str(source.structures),
            "fichier_reponses": str(source.reponses),
            "min_effectif": 2,
            "dossier_sortie": str(folder),
        }
        job = execution.Job(
            name, str(planning.TERRITORY_NOTEBOOK), str(folder), parameters, name, "rapport"
        )
        outcome = execution.run_job(job, 300)
        assert outcome.status == "ok", outcome.error
        counts.append(threading.active_count())
    assert counts[2] == counts[0], f"fils d'exécution après chaque notebook : {counts}"


def test_a_worker_s_lost_asyncio_task_prints_no_traceback(caplog):
    """nbclient's output poller fails with a killed fresh kernel; asyncio then logs
    « Task exception was never retrieved » and its traceback on the user's terminal.
    The workers' filter leaves that out, and only that."""
    import asyncio
    import gc
    import logging

    async def poller() -> None:
        raise AssertionError  # what jupyter_client raises once the socket is closed

    async def abandon() -> None:
        task = asyncio.ensure_future(poller())
        await asyncio.sleep(0)
        del task  # nobody awaits it: its failure is logged when it is collected

    logger = logging.getLogger("asyncio")
    logger.addFilter(execution._not_a_lost_task)
    try:
        asyncio.run(abandon())
        gc.collect()
        logger.error("autre chose")
    finally:
        logger.removeFilter(execution._not_a_lost_task)
    assert [record.getMessage() for record in caplog.records] == ["autre chose"]
    caplog.clear()
    asyncio.run(abandon())  # without the filter, the same lost task is logged
    gc.collect()
    assert "Task exception was never retrieved" in caplog.text
