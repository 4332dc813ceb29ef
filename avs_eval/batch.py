"""`avs-eval rapports`: every territory's report and the synthesis of a year, in one go.

Like papermill's `execute_notebook`, the batch is a short list of named steps, each
in the module named after its job:

1. plan (`planning.plan`): the inputs found and fingerprinted, and what an earlier
   batch knew of the data: with nothing to re-make, no data read and no kernel;
2. read (`planning.read`): the data validated and the indicators computed once, in
   this process, while the workers (`execution`) start their warm kernels;
3. run (`execution.Workers.run`): the notebooks of the reports whose inputs changed;
4. print (`printing`): with `--pdf`, every report printed by a browser; with `--docx`,
   its Word edition; each as soon as its notebook is done, while the next ones run;
5. publish (`publication`): index, manifest and state written, the year swapped in whole;
6. record (`record`): what was planned, re-made or carried over, timings and failures,
   kept as the batch goes; the journal, the manifest and the summary read it.

How it stays safe: nothing runs a notebook before the data are valid; everything is
written into a staging folder that replaces the year's folder only once the batch has
finished (see `publication`); a failed territory keeps its previous good report; a
refused or interrupted batch stops its workers and their kernels.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from importlib.metadata import packages_distributions
from pathlib import Path

from avs_eval import freshness, paths, planning
from avs_eval.execution import Outcome, Workers
from avs_eval.options import BatchOptions
from avs_eval.planning import Plan
from avs_eval.printing import PrintOptions
from avs_eval.publication import Publication, PublicationBlocked
from avs_eval.record import BatchRecord

__all__ = ["run_batch", "run_plan"]


def _say_on_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_batch(options: BatchOptions, say: Callable[[str], None] = _say_on_stderr) -> BatchRecord:
    """Validate, compute once, re-make what changed, publish the year's folder atomically.

    The workers start first: their kernels boot and import while this process
    validates the data. Nothing runs a notebook before the data are valid, and invalid
    data stop the workers before anything is written; nor does a Word template that
    cannot be read.
    """
    started = time.perf_counter()
    printing = PrintOptions.of(
        options
    ).checked()  # a Word template that cannot be read stops it here
    options = dataclasses.replace(options, modele_word=printing.modele_word)
    return run_plan(planning.plan(options), say, started)


def run_plan(
    batch: Plan, say: Callable[[str], None] = _say_on_stderr, started: float | None = None
) -> BatchRecord:
    """The steps of `run_batch` for any plan: a year's reports, or the bilan's one notebook."""
    started = time.perf_counter() if started is None else started
    options = batch.options
    printing = PrintOptions.of(options).checked()
    with Workers(batch.workers, options.noyau_neuf, start=not batch.idle) as workers:
        context = batch.read(say) if batch.data is None else None
        record = _open_record(batch, workers.count, started, say)
        if context is not None:
            from avs_eval import secrecy

            record.tell(secrecy.summary(context.table, batch.year))
        with (
            record.closing_journal(),
            # the internal edition never goes into the year's folder, which partners receive
            Publication(batch.root, batch.folder, record.tell, workers.abort) as publication,
        ):
            commentaries = batch.commentaries()
            record.decisions = batch.decide(
                publication.previous_state(), publication.final, commentaries
            )
            fingerprint = batch.fingerprint(commentaries)
            ready = publication.take_ready(fingerprint)
            if ready is not None:  # finished by an earlier run, and made from the same
                record.take_manifest(ready, publication.final)
                return record
            todo = [decision for decision in record.decisions if decision.remake]
            if todo and context is None:  # another batch changed the year meanwhile
                workers.start()
                context = batch.read(say)
            staging = _stage(publication, record.decisions, len(todo))
            with _printer(batch, todo, staging, workers.count, printing) as printer:
                steps = (batch, todo, context, workers, publication, record, printer)
                made, distributions = _run(*steps)
                if printer is not _NOT_PRINTING:
                    record.printed(printer.finish(made))
            record.settle(made, staging)
            _publish(batch, record, publication, commentaries, fingerprint, distributions)
    return record


def _open_record(
    batch: Plan, workers: int, started: float, say: Callable[[str], None]
) -> BatchRecord:
    """The batch's record, its journal opened with the inputs and the options."""
    options = batch.options
    record = BatchRecord(
        batch.year,
        batch.root / batch.folder,
        started=started,
        say=say,
        options={
            "noyau_neuf": options.noyau_neuf,
            "jobs": workers,
            "pdf": bool(options.pdf),
            "docx": bool(options.docx),
        },
    )
    record.open_journal(
        paths.resolve(options.journal) if options.journal else None,
        batch.root,
        batch.dependencies.files,
        batch.parameters(),
    )
    return record


def _stage(publication: Publication, decisions: list[freshness.Decision], todo: int) -> Path:
    """A staging folder for the new year, with the reports carried over copied in."""
    publication.check_space(todo + 1)
    staging = publication.new_staging()
    for decision in decisions:
        if not decision.remake:
            publication.carry_over(list(decision.previous["fichiers"]))
    return staging


def _run(
    batch: Plan,
    todo: list[freshness.Decision],
    context,
    workers: Workers,
    publication: Publication,
    record: BatchRecord,
    printer,
) -> tuple[list[Outcome], Future | None]:
    """The run step: the notebooks of the reports to re-make; a failure keeps the previous.

    Each report made is handed to the printer as soon as its notebook is done, so that
    its PDF and Word file are written while the next notebooks run; a report that failed
    and kept its previous page is printed from that page, once the run is over.
    """
    if not todo:
        return [], None
    context.data_day = batch.dependencies.data_day  # the reports say it, as freshness finds it
    workers.share(context)
    work = batch.jobs(todo, publication.staging, publication.final)
    # which distribution provides which module: 0.6 s of reading metadata, done while
    # the notebooks run
    distributions = _in_background(packages_distributions)
    options = batch.options

    def done(outcome: Outcome) -> None:
        record.notebook_done(outcome)
        if outcome.status == "ok":
            printer.add(outcome)

    made = workers.run(work, options.delai, options.progress, done)
    if any(outcome.disk_full for outcome in made):
        raise publication.disk_full(during=True)
    failed = [o for o in made if o.status != "ok"]
    publication.keep_previous(failed)
    for outcome in failed:
        if outcome.kept_previous:
            printer.add(outcome)
    return made, distributions


def _printer(batch: Plan, todo: list, staging: Path, parallel: int, printing: PrintOptions):
    """The print step (--pdf, --docx), opened before the run: into the staging folder,
    so that the year is published whole."""
    if todo and (printing.pdf or printing.docx):
        return batch.printer(staging, parallel, printing)
    return _NOT_PRINTING


class _NotPrinting:
    """No --pdf nor --docx, or nothing to re-make: nothing to print."""

    def __enter__(self) -> _NotPrinting:
        return self

    def __exit__(self, kind, error, trace) -> None:
        pass

    def add(self, outcome: Outcome) -> None:
        pass


_NOT_PRINTING = _NotPrinting()


def _publish(
    batch: Plan,
    record: BatchRecord,
    publication: Publication,
    commentaries: dict[str, str],
    fingerprint: str,
    distributions: Future | None,
) -> None:
    """The publish step: index, manifest and state, then the year swapped in whole."""
    staging = publication.staging
    publication.write_index(
        record.index_rows(staging, batch.report.interne), batch.source.is_sample
    )
    publication.write_manifest(
        record.manifest(
            staging, batch.parameters(), batch.source, distributions, batch.dependencies
        )
    )
    state = record.state(staging, batch.dependencies, commentaries, batch.data)
    state["empreinte_lot"] = fingerprint
    try:
        publication.publish(state)
    except PublicationBlocked as blocked:
        record.folder = publication.ready  # where the new reports wait
        blocked.result = record
        raise


def _in_background(function) -> Future:
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)

    threading.Thread(target=run, daemon=True).start()
    return future
