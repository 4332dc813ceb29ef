"""Benchmark of avs-eval (`make bench`): prints figures, asserts nothing.

1. The batch (`avs-eval rapports`, all territories + synthesis, HTML included) against
   the naive loop (papermill CLI then nbconvert CLI per notebook) and against
   Papermill's API with a process pool of `--jobs` workers (fresh kernel per notebook,
   in-process HTML export), as ratios.
2. The floor: starting a kernel and importing what the notebooks import; the batch's
   time per report against the work of its cells in a warm kernel.
3. `indicateurs` on synthetic data sets of 150, 4,000 and 100,000 structures x 5
   years: loading + validation, then computation, with time and peak memory.
4. The size of each HTML report.
5. `avs-eval valider` and `avs-eval indicateurs` end to end on 4,000 and 100,000
   structures x 5 years against the floor (a bare `pandas.read_csv` of both tables as
   text, in a fresh Python), with each child's peak memory, and how the cost grows; on
   data as users have them (a third of the rows with a warning, accepted spellings,
   empty cells: `mess`) and on clean data, each with the number of findings reported.
6. A file wrong on 10,000 rows: `valider` and `valider --erreurs`, and how many lines
   the terminal receives.
7. A workbook (both sheets) against `pandas.read_excel`.
8. The explorer: each control changed, seconds until chart and table are redrawn, on the
   sample and on 4,000 structures, each change made once the thresholds next to the one
   shown are masked (a user reading the chart gives the background thread that time,
   printed beside); and the first choice of a threshold far from any masked ahead (one
   secrecy audit in the user's thread), which has no target.
9. Start-up: `avs-eval --help` and the modules `avs_eval.cli` imports.
10. Re-runs: a second run with nothing changed and a run after one commentary edit, as
    shares of the full batch (`benchmarks/lot.py`).
11. Many territories: the batch with maps on 4,000 structures in 100 territories against
    the sample's 15, per report, with each process's peak memory and the synthesis's size
    (`benchmarks/lot.py`; skipped by `--rapide`).

12. The bilan: `avs-eval bilan` on the sample against the year's synthesis alone (the
    synthesis notebook through the same engine), and on 4,000 structures x 5 years of
    messy data (`benchmarks/objectifs.py`).
13. The secrecy audit (`avs_eval/audit.py`) on the sample at protection levels 1 and
    2, whatever `parameters/config.yaml` says: seconds, linear programs, cells masked
    beyond the simple rules, and what a partner reader loses (published cells masked
    per year, with and without the audit). Run alone with `--seulement audit`
    (under a minute); not in `--rapide`.

The run closes on a table of every target of the issue (`objectifs.summary`): each
figure with its floor or peer, the spread of its runs, the target and whether it holds;
the sections record their figures in `objectifs.RESULTS` as they measure them.

Sections 5 to 12 print each figure beside its floor and target, as medians of
`--executions` (at least 5) interleaved runs with their spread. Every large file is
generated into a temporary folder and removed at the end; none is committed.

An untimed batch runs first (warm caches for every method). Timings are medians over
`--repetitions` runs (default 1: the naive loop alone takes minutes); the batch runs
before and after each run of the loop it is compared with, so that both medians come from
the same minutes of a shared machine. Run: `make bench` or
`.venv/bin/python benchmarks/bench.py --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import objectifs
import pandas as pd
from objectifs import load_average

from avs_eval import paths
from avs_eval.catalog import load_catalog
from avs_eval.context import slug
from avs_eval.formatting import count, counted
from avs_eval.kernels import WARM_UP_CODE
from avs_eval.loading import load
from avs_eval.planning import SYNTHESIS_NOTEBOOK, TERRITORY_NOTEBOOK
from avs_eval.sources import DataSource

CATALOG = load_catalog()


BIN = Path(sys.executable).parent
YEAR = 2025
SIZES = (150, 4_000, 100_000)


class Timing(float):
    """A median of seconds that also knows the spread (min-max) of its runs."""

    low: float
    high: float

    @classmethod
    def of(cls, times: list[float]) -> Timing:
        timing = cls(statistics.median(times))
        timing.low, timing.high = min(times), max(times)
        return timing

    @property
    def spread(self) -> str:
        return f"({self.low:.1f}-{self.high:.1f})" if self.high > self.low else ""


def median_time(function, repetitions: int) -> Timing:
    return Timing.of([seconds_of(function) for _ in range(repetitions)])


def seconds_of(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def around(cheap, dear, repetitions: int) -> tuple[Timing, Timing]:
    """`cheap` run before and after each of `repetitions` runs of `dear`: both medians
    then come from the same minutes of the machine. A shared machine's speed changes
    from one minute to the next (the same batch, 16 to 24 s within the hour): a batch
    timed once before a three-minute loop made the ratio of that minute, not the code's."""
    cheap_times, dear_times = [seconds_of(cheap)], []
    for _ in range(repetitions):
        dear_times.append(seconds_of(dear))
        cheap_times.append(seconds_of(cheap))
    return Timing.of(cheap_times), Timing.of(dear_times)


def notebook_runs(folder: Path) -> list[tuple[str, Path, dict]]:
    """(name, notebook, parameters) of every notebook of a year's batch."""
    territories = load().territories
    common = {"annee": YEAR}
    runs = [
        (
            name,
            TERRITORY_NOTEBOOK,
            {**common, "territoire": name, "dossier_sortie": str(folder / slug(name))},
        )
        for name in territories
    ]
    runs.append(("synthese", SYNTHESIS_NOTEBOOK, {**common, "dossier_sortie": str(folder)}))
    return runs


# --- 1. three ways of producing a year of reports -------------------------------------


def run_batch(folder: Path, jobs: int, portable: bool = False, *options: str) -> None:
    """`avs-eval rapports`; `portable`: the non-POSIX path (TCP kernels, no signals);
    `options`: more of the command's options (`--pdf`)."""
    environment = {**os.environ, "AVS_EVAL_PORTABLE": "1" if portable else "0"}
    command = ["rapports", "--sortie", str(folder), "--jobs", str(jobs), "--tout", *options]
    subprocess.run(
        [BIN / "avs-eval", *command],
        check=True,
        capture_output=True,
        env=environment,
    )


def quick(work: Path, jobs: int, repetitions: int) -> None:
    """The batch alone, on both code paths, and the floor: before/after a change to it."""
    run_batch(work / "echauffement", jobs)
    batch = median_time(lambda: run_batch(work / "lot", jobs), repetitions)
    portable = median_time(lambda: run_batch(work / "portable", jobs, True), repetitions)
    floor = kernel_floor()
    notebooks = json.loads((work / "lot" / str(YEAR) / "manifest.json").read_text())["notebooks"]
    work_s = sum(n["secondes_cellules"] for n in notebooks) / len(notebooks)
    per_report = batch * jobs / len(notebooks)
    print(f"   avs-eval rapports (noyaux chauds)           : {batch:7.1f} s")
    print(f"   même lot, chemin portable (AVS_EVAL_PORTABLE=1) : {portable:7.1f} s")
    print(f"   démarrage d'un noyau + imports des notebooks : {floor:5.2f} s")
    print(f"   travail des cellules par rapport (noyau chaud) : {work_s:5.2f} s")
    print(
        f"   temps du lot par rapport et par processus      : {per_report:5.2f} s"
        f"   -> {per_report / work_s:4.2f} x le travail, {per_report / floor:4.2f} x le plancher"
    )


BATCH_VS_LOOP_TARGET = 8.0  # the year's batch against a user's papermill + nbconvert loop
PDF_TARGET = 1.25  # `rapports --pdf` against the same batch without


def pdf_against_html(work: Path, args) -> None:
    """`rapports --pdf` against the same batch without, interleaved (`--executions` rounds):
    what printing costs now that each PDF is printed while the next notebooks run."""
    from avs_eval.pdf import BrowserMissing, find_browser

    try:
        browser = find_browser()
    except BrowserMissing:
        print("   avs-eval rapports --pdf : sauté (aucun navigateur installé)")
        return
    print(f"   navigateur d'impression : {browser.name} (le premier trouvé, comme le lot)")
    html, printed = [], []
    for _ in range(args.executions):
        for times, options in ((html, ()), (printed, ("--pdf",))):
            folder = work / ("avec-pdf" if options else "sans-pdf")
            start = time.perf_counter()
            run_batch(folder, args.jobs, False, *options)
            times.append(time.perf_counter() - start)
    without, with_pdf = Timing.of(html), Timing.of(printed)
    print(
        f"   avs-eval rapports --pdf                : {with_pdf:7.1f} s {with_pdf.spread}"
        f"   -> {with_pdf / without:4.2f} x le même lot sans --pdf ({without:.1f} s"
        f" {without.spread} ; médianes de {args.executions}, alternées ;"
        f" cible ≤ {PDF_TARGET:.2f} x)"
    )
    objectifs.record(
        "pdf",
        objectifs.Result.of(
            printed, PDF_TARGET, peer=without, peer_name="sans --pdf",
            peer_spread=(without.low, without.high),
        ),
    )  # fmt: skip


def run_naive(folder: Path) -> None:
    """What a user's shell loop does: papermill CLI, then nbconvert CLI, per notebook."""
    for name, notebook, parameters in notebook_runs(folder):
        target = folder / f"{slug(name)}.ipynb"
        arguments = []
        for key, value in parameters.items():
            arguments += ["-p", key, str(value)]
        subprocess.run(
            [
                BIN / "papermill",
                str(notebook),
                str(target),
                *arguments,
                "--cwd",
                str(notebook.parent),
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [BIN / "jupyter", "nbconvert", "--to", "html", "--no-input", str(target)],
            check=True,
            capture_output=True,
        )


def _quiet_worker() -> None:
    """Send the pool's kernels' log lines (ipykernel's warnings) where the CLI's go: nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def _api_job(arguments: tuple[str, str, dict, str]) -> None:
    import papermill
    from nbconvert import HTMLExporter

    notebook, target, parameters, cwd = arguments
    executed = papermill.execute_notebook(
        notebook, target, parameters=parameters, cwd=cwd, progress_bar=False
    )
    body, _ = HTMLExporter(exclude_input=True).from_notebook_node(executed)
    Path(target).with_suffix(".html").write_text(body, encoding="utf-8")


def run_api_pool(folder: Path, jobs: int) -> None:
    """Papermill's API in a process pool: a fresh kernel per notebook."""
    tasks = [
        (str(nb), str(folder / f"{slug(name)}.ipynb"), parameters, str(nb.parent))
        for name, nb, parameters in notebook_runs(folder)
    ]
    with ProcessPoolExecutor(jobs, initializer=_quiet_worker) as pool:
        list(pool.map(_api_job, tasks))


# --- 2. the floor ------------------------------------------------------------------------


def kernel_floor() -> float:
    """Start a kernel and import what the report notebooks import, then stop it."""
    from jupyter_client.manager import start_new_kernel

    start = time.perf_counter()
    manager, client = start_new_kernel(kernel_name="python3", stderr=subprocess.DEVNULL)
    try:
        client.execute_interactive(
            WARM_UP_CODE,  # what the batch's kernels import before their first notebook
            timeout=120,
            output_hook=lambda message: None,
        )
        return time.perf_counter() - start
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


# --- 3. indicators at scale ----------------------------------------------------------------


def synthetic(
    directory: Path,
    structures: int,
    seed: int = 2022,
    places: pd.DataFrame | None = None,
    messy: bool = False,
) -> tuple[Path, Path]:
    """A register of `structures` structures and 5 years of answers, built with numpy.

    `places`: the communes (commune, code_insee, territoire, collectivite) to spread the
    structures over; by default those of the sample's structures. `messy`: the data of a
    real survey export (`mess`): valid, but with warnings and accepted spellings.
    """

    rng = np.random.default_rng(seed)
    if places is None:
        sample = pd.read_csv(paths.SAMPLE_STRUCTURES, dtype=str, keep_default_na=False)
        places = sample[["commune", "code_insee", "territoire", "collectivite"]]
        places = places.drop_duplicates()
    territories = places["territoire"].nunique()
    pick = rng.integers(0, len(places), structures)
    register = places.iloc[pick].reset_index(drop=True)
    register.insert(0, "structure_id", [f"S{i:06d}" for i in range(structures)])
    register.insert(1, "nom", [f"Structure {i}" for i in range(structures)])
    register.insert(2, "type", np.where(rng.random(structures) < 0.7, "CS", "EVS"))
    register["qpv"] = np.where(rng.random(structures) < 0.4, "oui", "non")
    register["annee_debut"] = ""
    register["annee_fin"] = ""
    frames = []
    for year in range(2022, 2027):
        answered = rng.random(structures) < 0.88
        n = int(answered.sum())
        frame = {"structure_id": register["structure_id"][answered].to_numpy(), "annee": year}
        for question in CATALOG.questions:  # follow-ups come after the yes/no they depend on
            if not question.asked_in(year):  # valid data: no answer to a question not asked
                frame[question.colonne] = ""
            elif question.kind == "oui_non":
                draw = rng.random(n)
                answer = np.where(draw < 0.03, "", np.where(draw < 0.6, "oui", "non"))
                if question.condition:
                    answer = np.where(frame[question.condition] == "oui", answer, "")
                frame[question.colonne] = answer
            elif question.kind == "liste":
                codes = [m.code for m in question.modalites if not m.exclusive and m.asked_in(year)]
                suffixed = np.array([c + ";" for c in codes], dtype=object)
                chosen = rng.random((n, len(codes))) < 0.3
                joined = np.where(chosen, suffixed, "").sum(axis=1).astype(str)
                joined = np.char.rstrip(joined, ";")
                if question.condition:
                    joined = np.where(frame[question.condition] == "oui", joined, "")
                frame[question.colonne] = joined
            else:
                frame[question.colonne] = ""
        if messy:
            mess(frame, year, rng)
        frames.append(pd.DataFrame(frame))
    answers = pd.concat(frames, ignore_index=True)
    if messy:
        register["type"] = respell(register["type"].to_numpy(), TYPE_SPELLINGS, rng)
        register["qpv"] = respell(register["qpv"].to_numpy(), YES_NO_SPELLINGS, rng)
    suffix = "_desordre" if messy else ""
    s_path, r_path = (
        directory / f"structures_{structures}_{territories}{suffix}.csv",
        directory / f"reponses_{structures}_{territories}{suffix}.csv",
    )
    register.to_csv(s_path, index=False)
    answers.to_csv(r_path, index=False)
    return s_path, r_path


# The mess of a real survey export: accepted spellings (each with its share of the cells
# that hold the canonical value), answers the validator warns about, empty cells.
YES_NO_SPELLINGS = {
    "oui": (("Oui", 0.15), ("O", 0.03), ("vrai", 0.02), ("OUI", 0.03)),
    "non": (("Non", 0.15), ("N", 0.03), ("faux", 0.02)),
}
TYPE_SPELLINGS = {
    "CS": (("centre social", 0.1), ("Centre social", 0.05)),
    "EVS": (("espace de vie sociale", 0.1),),
}
WARNED_SHARE = 1 / 3  # rows with at least one warning
EMPTY_SHARE = 0.04  # further answers left empty


def respell(values: np.ndarray, spellings: dict, rng: np.random.Generator) -> np.ndarray:
    """Some canonical values written as the other spellings the validator accepts."""
    values = values.astype(object)
    draw = rng.random(len(values))
    for canonical, variants in spellings.items():
        low = 0.0
        for spelling, share in variants:
            values[(values == canonical) & (draw >= low) & (draw < low + share)] = spelling
            low += share
    return values


def mess(frame: dict, year: int, rng: np.random.Generator) -> None:
    """A third of the rows with a warning, accepted spellings and empty cells, in place.

    A warned row answers the questions not yet asked that year (before their `depuis`, or
    their action's first year); when every question is asked, it answers a follow-up after
    a « non », or ticks an exclusive code (« aucun ») beside others. Both are accepted with
    a warning, as in real exports.
    """
    n = len(frame["structure_id"])
    warned = rng.random(n) < WARNED_SHARE
    unasked = [q for q in CATALOG.questions if not q.asked_in(year)]
    for question in unasked:
        frame[question.colonne] = np.where(warned, example_answer(question), "")
    if not unasked:
        followups = [
            q
            for q in CATALOG.questions
            if q.condition and not q.condition_code and q.kind == "liste"
        ]
        exclusive = [
            (q, m)
            for q in CATALOG.questions
            for m in q.modalites
            if m.exclusive and m.asked_in(year)
        ]
        kind = rng.random(n)
        if followups:
            question = followups[year % len(followups)]
            rows = warned & (kind < 0.5)
            frame[question.condition] = np.where(rows, "non", frame[question.condition])
            frame[question.colonne] = np.where(
                rows, example_answer(question), frame[question.colonne]
            )
        if exclusive:
            question, modalite = exclusive[year % len(exclusive)]
            other = next(c for c in question.codes if c != modalite.code)
            rows = warned & (kind >= 0.5)
            frame[question.colonne] = np.where(
                rows, f"{other};{modalite.code}", frame[question.colonne]
            )
    for question in CATALOG.questions:
        column = np.asarray(frame[question.colonne], dtype=object)
        column = np.where(rng.random(n) < EMPTY_SHARE, "", column)
        if question.kind == "oui_non":
            column = respell(column, YES_NO_SPELLINGS, rng)
        frame[question.colonne] = column


def example_answer(question) -> str:
    """An answer of the question's kind: « oui », its first code, a few words."""
    if question.kind == "oui_non":
        return "oui"
    if question.kind == "liste":
        return question.codes[0]
    return "réponse libre"


def measure(function) -> tuple[float, float, object]:
    """Seconds of one call, and the peak memory it allocates (MiB) in a second, traced call.

    Two calls because tracing every allocation slows the traced one down several times.
    """
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20, result


def indicator_scaling(directory: Path, repetitions: int) -> list[dict]:
    from avs_eval import indicators

    rows = []
    for size in SIZES:
        s_path, r_path = synthetic(directory, size)
        source = DataSource(s_path, r_path)
        load_s, load_mib, dataset = measure(lambda source=source: load(source))
        times = []
        for _ in range(repetitions):
            seconds, mib, table = measure(lambda dataset=dataset: indicators.compute(dataset))
            times.append(seconds)
        rows.append(
            {
                "structures": size,
                "reponses": len(dataset.responses),
                "lignes": len(table),
                "chargement_s": load_s,
                "chargement_mio": load_mib,
                "calcul_s": statistics.median(times),
                "calcul_mio": mib,
            }
        )
    return rows


# --- 5 to 8. reading and validation, errors, XLSX, explorer, start-up -------------------------
#
# Each figure is printed beside its floor and its target. Timings are medians of
# `--executions` runs (at least 5), the commands compared run one after the other in each
# round (interleaved), so that a slow moment of the machine weighs on all of them alike;
# the spread (min-max) is printed beside each median.

FLOOR_CODE = (
    "import sys\n"
    "import pandas as pd\n"
    "for path in sys.argv[1:]:\n"
    "    pd.read_csv(path, dtype=str, keep_default_na=False)\n"
)
XLSX_FLOOR_CODE = (
    "import sys\nimport pandas as pd\npd.read_excel(sys.argv[1], sheet_name=None, dtype=str)\n"
)
STARTUP_TARGET_S = 0.3
FLOOR_FACTOR_TARGET = 4.0
MEMORY_TARGET_MIB = 1024
EXPLORER_TARGETS_S = {"l'échantillon": 0.3, "4 000 structures": 1.0}


# Runs a command and reports its wall time, its peak memory and its exit code. A small
# launcher, because Linux keeps a process's memory high-water mark across exec: a
# command forked from this benchmark (pandas loaded) would report at least its size.
LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def child(argv: list, expected: int = 0) -> tuple[float, float]:
    """Wall seconds and peak memory (MiB, the command's own maximum resident set)."""
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *map(str, argv)],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, kib, code = launched.stdout.split()
    if int(code) != expected:
        raise SystemExit(f"{' '.join(map(str, argv))} : code {code}, {expected} attendu")
    return float(seconds), int(kib) / 1024


def interleaved(commands: dict[str, tuple[list, int]], runs: int) -> dict[str, list]:
    """Every command once per round, `runs` rounds: {name: [(seconds, MiB), ...]}."""
    results: dict[str, list] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (argv, expected) in commands.items():
            results[name].append(child(argv, expected))
    return results


def med(samples: list) -> float:
    return statistics.median(s[0] if isinstance(s, tuple) else s for s in samples)


def spread(samples: list) -> str:
    values = [s[0] if isinstance(s, tuple) else s for s in samples]
    return f"{min(values):.2f}-{max(values):.2f}"


def peak(samples: list) -> float:
    return max(s[1] for s in samples)


def csv_scaling(work: Path, runs: int, quick_mode: bool = False) -> dict:
    """`avs-eval valider` and `indicateurs` end to end against a bare `pandas.read_csv`.

    On the data users meet (`mess`: a third of the rows with a warning, accepted
    spellings, empty cells) and on clean data, at 4,000 and 100,000 structures x 5
    years, each beside the number of findings it reports. `quick_mode`: the clean case
    at 4,000 only.
    """
    print(
        f"\n5. Lecture et validation des CSV, 5 années (médianes de {runs} exécutions "
        "alternées, min-max ; mémoire : maximum du processus)"
    )
    print(f"   objectif : ≤ {FLOOR_FACTOR_TARGET:.0f} × le plancher (`pandas.read_csv` des deux")
    print(f"   tables en texte, démarrage de Python compris) ; < {MEMORY_TARGET_MIB} Mio à 100 000")
    print(f"   charge de la machine au départ : {load_average()}")
    out: dict[tuple[int, bool], dict] = {}
    sizes = (4_000, 100_000)
    for size in sizes:
        cases = (True,) if quick_mode and size > sizes[0] else (True, False)
        commands, about = {}, {}
        for messy in cases:
            s_path, r_path = synthetic(work, size, messy=messy)
            files = ["--structures", str(s_path), "--reponses", str(r_path)]
            about[messy] = (csv_rows(r_path), findings_count(files))
            output = work / f"ind_{size}_{int(messy)}.csv"
            commands |= {
                ("plancher", messy): ([sys.executable, "-c", FLOOR_CODE, s_path, r_path], 0),
                ("valider", messy): ([BIN / "avs-eval", "valider", *files], 0),
                ("indicateurs", messy): (
                    [BIN / "avs-eval", "indicateurs", *files, "--sortie", output],
                    0,
                ),
            }
        results = interleaved(commands, runs)  # both cases in each round
        for messy in cases:
            rows, findings = about[messy]
            floor = med(results[("plancher", messy)])
            state = "en désordre" if messy else "propres"
            print(f"   {count(size)} structures, {count(rows)} réponses, {state} ({findings}) :")
            for name in ("plancher", "valider", "indicateurs"):
                samples = results[(name, messy)]
                ratio = ""
                if name != "plancher":
                    factor = med(samples) / floor
                    ratio = f"  {factor:4.2f} × le plancher" + (
                        "" if factor <= FLOOR_FACTOR_TARGET else "   OBJECTIF MANQUÉ"
                    )
                print(
                    f"     {name:12s} {med(samples):6.2f} s ({spread(samples)}) "
                    f"{peak(samples):6.0f} Mio{ratio}"
                )
            if messy:
                for name in ("valider", "indicateurs"):
                    objectifs.record(
                        f"{name}_{size}",
                        objectifs.Result.of(
                            [s[0] for s in results[(name, messy)]],
                            FLOOR_FACTOR_TARGET,
                            peer=floor,
                            peer_name="plancher",
                            peer_spread=(
                                min(x[0] for x in results[("plancher", messy)]),
                                max(x[0] for x in results[("plancher", messy)]),
                            ),
                        ),
                    )
            out[(size, messy)] = {
                name: (med(results[(name, messy)]), peak(results[(name, messy)]))
                for name in ("plancher", "valider", "indicateurs")
            }
    print(f"   charge de la machine à la fin : {load_average()}")
    small, large = sizes
    for name in ("plancher", "valider", "indicateurs"):
        growth = out[(large, True)][name][0] / out[(small, True)][name][0]
        factor = large / small
        print(
            f"   {name} en désordre : {small:,} -> {large:,} structures (× {factor:.0f}) : "
            f"temps × {growth:4.1f}".replace(",", " ")
            + (" (linéaire ou mieux)" if growth <= factor * 1.1 else " (PLUS que linéaire)")
        )
    return out


def csv_rows(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle) - 1


def findings_count(files: list[str]) -> str:
    """What `avs-eval valider` reports, as « 194 698 avertissements, 0 erreur »."""
    result = subprocess.run(
        [BIN / "avs-eval", "valider", *files], capture_output=True, text=True, check=False
    )
    said = result.stdout + result.stderr
    counts = []
    for noun in ("avertissement", "erreur"):
        # « 194 698 avertissements » : the thousands are apart (U+202F), as a reader sees them
        found = re.search(rf"^(\d[\d\u202f\u00a0 ]*) {noun}s?\b", said, re.MULTILINE)
        number = int(re.sub(r"\D", "", found.group(1))) if found else 0
        counts.append(counted(number, noun))
    return ", ".join(counts)


def error_listing(work: Path, runs: int, bad_rows: int = 10_000) -> None:
    """A file wrong on every row: `valider` stays fast, its listing short, the CSV complete."""
    s_path, r_path = synthetic(work, 4_000)
    answers = pd.read_csv(r_path, dtype=str, keep_default_na=False)
    answers.loc[: bad_rows - 1, "permanence_partenaire"] = "peut-être"
    bad = work / "reponses_fausses.csv"
    answers.to_csv(bad, index=False)
    listing = work / "erreurs.csv"
    files = ["--structures", str(s_path), "--reponses", str(bad)]
    commands = {
        "plancher": ([sys.executable, "-c", FLOOR_CODE, s_path, bad], 0),
        "valider": ([BIN / "avs-eval", "valider", *files], 1),
        "valider --erreurs": ([BIN / "avs-eval", "valider", *files, "--erreurs", listing], 1),
    }
    results = interleaved(commands, runs)
    shown = subprocess.run(
        [BIN / "avs-eval", "valider", *files], capture_output=True, text=True, check=False
    ).stderr.count("\n")
    written = len(listing.read_text(encoding="utf-8-sig").splitlines()) - 1
    print(f"\n6. Erreurs : {bad_rows:,} lignes fausses sur {len(answers):,}".replace(",", " "))
    floor = med(results["plancher"])
    for name, samples in results.items():
        ratio = "" if name == "plancher" else f"  {med(samples) / floor:4.2f} × le plancher"
        print(f"     {name:18s} {med(samples):6.2f} s ({spread(samples)}){ratio}")
    print(
        f"   terminal : {shown} lignes (50 erreurs en entier, puis un total par règle) ; "
        f"--erreurs : {written:_} lignes écrites".replace("_", " ")
    )


def synthetic_workbook(directory: Path, structures: int) -> Path:
    s_path, r_path = synthetic(directory, structures)
    path = directory / f"classeur_{structures}.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, source in (("structures", s_path), ("reponses", r_path)):
            frame = pd.read_csv(source, dtype=str, keep_default_na=False)
            frame.to_excel(writer, sheet_name=name, index=False)
    return path


def xlsx_reading(work: Path, runs: int, structures: int) -> None:
    """A workbook with both sheets: `valider --classeur` against `pandas.read_excel`."""
    path = synthetic_workbook(work, structures)
    commands = {
        "plancher": ([sys.executable, "-c", XLSX_FLOOR_CODE, path], 0),
        "valider": ([BIN / "avs-eval", "valider", "--classeur", path], 0),
    }
    results = interleaved(commands, runs)
    floor = med(results["plancher"])
    print(
        f"\n7. Classeur XLSX, {structures:,} structures × 5 ans (openpyxl ; plancher : "
        "`pandas.read_excel` des deux feuilles en texte)".replace(",", " ")
    )
    for name, samples in results.items():
        ratio = "" if name == "plancher" else f"  {med(samples) / floor:4.2f} × le plancher"
        print(
            f"     {name:12s} {med(samples):6.2f} s ({spread(samples)}) "
            f"{peak(samples):6.0f} Mio{ratio}"
        )


def explorer_changes(
    explorer, rounds: int, reading: list[float]
) -> dict[str, list[tuple[float, float]]]:
    """Each control changed once per round: (seconds to chart and table, seconds in all).

    Chart and table: until the table's HTML is set, the chart's image having been set
    just before (the front end receives each as it is set); in all: the map too. Before
    each change, the wait until the thresholds next to the one shown are masked in the
    background is appended to `reading` (the reading time the explorer needs).
    """
    shown: list[float] = []
    explorer.table_view.observe(lambda _: shown.append(time.perf_counter()), names="value")
    perimeters = [value for _, value in explorer.perimetres.options]
    low, high = explorer.annees.min, explorer.annees.max
    controls = {  # each control and values to cycle through; a change is never a no-op
        "indicateur": (explorer.indicateur, [v for _, v in explorer.indicateur.options][:40]),
        "années": (explorer.annees, [(low, high), (high, high), (low + 1, high)]),
        "périmètres": (explorer.perimetres, [tuple(perimeters[: 2 + n]) for n in range(5)]),
        "structures": (explorer.structures, ["CS", "EVS", "CS+EVS", "Ensemble"]),
        "seuil de secret": (explorer.min_effectif, [3, 4, 6, 7, 8, 10]),
    }

    def set_next(control, values, k):
        value = values[k % len(values)]
        if value == control.value:
            value = values[(k + 1) % len(values)]
        control.value = value

    changes = {
        name: (lambda k, c=control, v=values: set_next(c, v, k))
        for name, (control, values) in controls.items()
    }
    results: dict[str, list] = {name: [] for name in changes}
    for k in range(rounds):
        for name, change in changes.items():
            start = time.perf_counter()
            explorer.settle(120)  # the user reads the chart: the neighbours get masked
            reading.append(time.perf_counter() - start)
            shown.clear()
            start = time.perf_counter()
            change(k)
            total = time.perf_counter() - start
            results[name].append(((shown[-1] if shown else start + total) - start, total))
    return results


def explorer_section(work: Path, runs: int) -> None:
    from avs_eval import paths
    from avs_eval.explorer import Explorer

    # an empty audit cache, as on the first day with these data: every threshold's
    # masking is computed here, not read from the project's `.cache/audit/`
    paths.AUDIT_CACHE_DIR = work / "cache-audit-explorateur"

    print(
        f"\n8. Explorateur : un contrôle changé -> graphique et tableau redessinés "
        f"(médianes de {runs} changements de chaque contrôle, alternés ; carte comprise entre "
        "parenthèses)"
    )
    s_path, r_path = synthetic(work, 4_000)
    cases = (("l'échantillon", ()), ("4 000 structures", (str(s_path), str(r_path))))
    for name, arguments in cases:
        explorer = Explorer(*arguments, dossier_sortie=work / "explorateur")
        reading: list[float] = []
        explorer_changes(explorer, 1, [])  # warm: fonts, the map's background, caches
        results = explorer_changes(explorer, runs, reading)
        far = 15  # the measured changes and their neighbours stay within 1 to 12
        explorer.settle(120)
        start = time.perf_counter()
        explorer.min_effectif.value = far  # never masked ahead: one audit, here
        far_s = time.perf_counter() - start
        explorer.close()
        target = EXPLORER_TARGETS_S[name]
        print(
            f"   {name} (objectif : < {target} s, médiane ; chaque changement une fois masqués "
            f"les seuils voisins, ce qui demande au plus {max(reading):.1f} s de lecture, "
            f"médiane {statistics.median(reading):.1f} s ; un seuil jamais choisi, loin des "
            f"voisins ({far}) : {far_s:.1f} s) :"
        )
        slowest = max(results.values(), key=lambda s: statistics.median(c for c, _ in s))
        with_map = max(statistics.median(t for _, t in s) for s in results.values())
        objectifs.record(
            "explorateur_echantillon" if not arguments else "explorateur_4000",
            objectifs.Result.of(
                [c for c, _ in slowest],
                target,
                ratio=False,
                note=f"carte comprise, le plus lent : {with_map:.2f} s",
            ),
        )
        for control, samples in results.items():
            chart = [s[0] for s in samples]
            total = [s[1] for s in samples]
            print(
                f"     {control:16s} {statistics.median(chart):5.2f} s ({spread(chart)})"
                f"   (avec la carte : {statistics.median(total):5.2f} s)"
                + ("" if statistics.median(chart) < target else "   OBJECTIF MANQUÉ")
            )


def startup(runs: int) -> None:
    commands = {
        "python -c pass": ([sys.executable, "-c", "pass"], 0),
        "avs-eval --help": ([BIN / "avs-eval", "--help"], 0),
    }
    results = interleaved(commands, runs)
    lazy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\nimport avs_eval.cli\n"
            "print(sorted({'pandas', 'numpy', 'matplotlib', 'openpyxl', 'statsmodels', 'scipy'}"
            " & set(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"\n9. Démarrage (objectif : `avs-eval --help` < {STARTUP_TARGET_S} s)")
    for name, samples in results.items():
        print(f"     {name:16s} {med(samples):5.2f} s ({spread(samples)})")
    print(f"   modules lourds importés par `avs_eval.cli` : {lazy} (aucun attendu)")


def reading_sections(work: Path, runs: int, quick_mode: bool) -> None:
    csv_scaling(work, runs, quick_mode)
    error_listing(work, runs)
    xlsx_reading(work, runs, 1_000 if quick_mode else 4_000)
    explorer_section(work, runs)
    startup(runs)


# --- main --------------------------------------------------------------------------------


def batch_comparison(work: Path, args) -> None:
    """Sections 1 to 4: the batch against other ways, the floor, scaling, page sizes."""
    print("\n1. Une année de rapports (15 territoires + synthèse, HTML compris)")
    batch_folder = work / "lot"
    # One untimed batch first: the file-system cache and Python's bytecode cache are
    # then warm for every method measured, not only for those that run later.
    run_batch(work / "echauffement", args.jobs)
    if args.sans_boucle_naive:
        batch = median_time(lambda: run_batch(batch_folder, args.jobs), args.repetitions)
    else:  # the batch on either side of each run of the loop: the same minutes for both
        naive_folder = work / "naif"
        naive_folder.mkdir()
        batch, naive = around(
            lambda: run_batch(batch_folder, args.jobs),
            lambda: run_naive(naive_folder),
            args.repetitions,
        )
    fresh = median_time(
        lambda: subprocess.run(
            [
                BIN / "avs-eval",
                "rapports",
                "--sortie",
                str(work / "neuf"),
                "--tout",
                "--noyau-neuf",
                "--jobs",
                str(args.jobs),
            ],
            check=True,
            capture_output=True,
        ),
        args.repetitions,
    )
    pool_folder = work / "api"
    pool_folder.mkdir()
    pool = median_time(lambda: run_api_pool(pool_folder, args.jobs), args.repetitions)
    print(f"   avs-eval rapports (noyaux chauds)      : {batch:7.1f} s {batch.spread}")
    print(f"   avs-eval rapports --noyau-neuf         : {fresh:7.1f} s {fresh.spread}")
    print(
        f"   API Papermill + pool de {args.jobs} processus  : {pool:7.1f} s {pool.spread}"
        f"   -> lot {pool / batch:4.1f} x plus rapide"
    )
    if not args.sans_boucle_naive:
        print(
            f"   boucle naïve papermill + nbconvert CLI : {naive:7.1f} s {naive.spread}"
            f"   -> lot {naive / batch:4.1f} x plus rapide (cible ≥ {BATCH_VS_LOOP_TARGET:.0f} x ;"
            f" lot avant et après chaque boucle, médiane de {args.repetitions + 1})"
        )
        objectifs.record(
            "lot",
            objectifs.Result(
                naive, naive.low, naive.high, BATCH_VS_LOOP_TARGET, peer=batch, peer_name="lot",
                peer_spread=(batch.low, batch.high), at_least=True, runs=args.repetitions,
            ),
        )  # fmt: skip
    pdf_against_html(work, args)

    print("\n2. Le plancher")
    floor = kernel_floor()
    manifest = json.loads((batch_folder / str(YEAR) / "manifest.json").read_text())
    notebooks = manifest["notebooks"]
    work_s = sum(n["secondes_cellules"] for n in notebooks) / len(notebooks)
    per_report = batch * args.jobs / len(notebooks)
    print(f"   démarrage d'un noyau + imports des notebooks : {floor:5.2f} s")
    print(f"   travail des cellules par rapport (noyau chaud) : {work_s:5.2f} s")
    print(
        f"   temps du lot par rapport et par processus      : {per_report:5.2f} s"
        f"   -> {per_report / work_s:4.2f} x le travail,"
        f" {per_report / floor:4.2f} x le plancher"
    )

    print("\n3. Indicateurs à grande échelle (5 années)")
    print("   structures   réponses   chargement+validation      calcul des indicateurs")
    scaling = indicator_scaling(work, args.repetitions)
    for row in scaling:
        print(
            f"   {row['structures']:>10,}  {row['reponses']:>9,}"
            f"   {row['chargement_s']:7.2f} s {row['chargement_mio']:7.0f} Mio"
            f"     {row['calcul_s']:7.3f} s {row['calcul_mio']:7.0f} Mio".replace(",", " ")
        )
    small, large = scaling[1], scaling[2]
    growth = (large["calcul_s"] / small["calcul_s"]) / (large["structures"] / small["structures"])
    print(f"   croissance du calcul 4 000 -> 100 000 : {growth:4.2f} x la croissance linéaire")

    print("\n4. Taille des rapports HTML")
    pages = [
        p for p in sorted((batch_folder / str(YEAR)).glob("**/*.html")) if p.name != "index.html"
    ]
    sizes = {p.relative_to(batch_folder / str(YEAR)).as_posix(): p.stat().st_size for p in pages}
    for name, size in sorted(sizes.items(), key=lambda item: -item[1])[:5]:
        print(f"   {name:55s} {size / 1e6:5.2f} Mo")
    print(
        f"   le plus gros : {max(sizes.values()) / 1e6:.2f} Mo ; le plus petit : "
        f"{min(sizes.values()) / 1e6:.2f} Mo ({len(sizes)} pages)"
    )


def bilan_section(work: Path, runs: int) -> None:
    """12. the bilan on the sample against the synthesis alone, and at 4,000 x 5."""
    objectifs.bilan_section(work, runs, synthetic, child, spread)


def audit_section(levels: tuple[int, ...] = (1, 2)) -> None:
    """13. the secrecy audit on the sample: its cost and what the reader loses for it."""
    from avs_eval import context, paths, secrecy
    from avs_eval.config import load_config
    from avs_eval.indicators import QPV_UNKNOWN
    from avs_eval.loading import load
    from avs_eval.schema import ALL_PERIMETER, LEVELS
    from avs_eval.sources import DataSource

    dataset = load(DataSource.sample())
    table = context.unmasked_table(dataset)
    table = table.assign(secret=table["denominateur"].to_numpy() < load_config().min_effectif)
    published = (
        table["niveau"].isin(LEVELS)
        & (table["type"] == ALL_PERIMETER)
        & ~table["perimetre"].str.endswith(QPV_UNKNOWN)
    )
    # a fresh cache: the audit is measured, not read back from an earlier run
    paths.AUDIT_CACHE_DIR = Path(tempfile.mkdtemp(prefix="avs-eval-audit-"))
    simple = secrecy.apply(table, dataset.collectivites, protection=0)["masque"]
    print("\n13. Audit du secret sur l'échantillon (une exécution par niveau)")
    for level in levels:
        started = time.perf_counter()
        masked = secrecy.apply(table, dataset.collectivites, protection=level)
        seconds = time.perf_counter() - started
        result = secrecy.audit_of(masked)
        print(
            f"   niveau {level} : {seconds:5.1f} s, {result.linear_programs} programmes linéaires ;"
            f" {result.summary()}."
        )
        for year in sorted(table["annee"].unique()):
            rows = published & (table["annee"] == year)
            headline = rows & (table["modalite"] == "")
            print(
                f"     {year} : {int(rows.sum())} cases publiables, masquées "
                f"{int(simple[rows].sum())} → {int(masked['masque'][rows].sum())} ; "
                f"parts sans modalité {int(headline.sum())}, masquées "
                f"{int(simple[headline].sum())} → {int(masked['masque'][headline].sum())}"
            )


def batch_sections(work: Path, runs: int, jobs: int, which: list[str]) -> None:
    """10. re-runs; 11. many territories (benchmarks/lot.py)."""
    import lot

    lot.JOBS = jobs
    if "reprises" in which:
        print(f"\n10. Reprises : ne refaire que ce qui a changé (médianes de {runs}, alternées)")
        lot.reruns(work, runs, med, spread)
    if "territoires" in which:
        print(
            f"\n11. Nombreux territoires, cartes comprises (médianes de {runs}, alternées ;"
            f" --jobs {jobs})"
        )
        lot.territories_section(work, runs, synthetic, med, spread)


def main() -> int:
    parser = argparse.ArgumentParser(description="Mesures de performance d'avs-eval.")
    parser.add_argument("--repetitions", type=int, default=1, help="répétitions (médiane)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sans-boucle-naive", action="store_true", help="sauter la boucle naïve")
    parser.add_argument(
        "--rapide",
        action="store_true",
        help="le lot seul (chemins POSIX et portable) et le plancher, sans comparaison ; puis "
        "lecture, erreurs, XLSX (1 000 structures), explorateur et démarrage",
    )
    parser.add_argument(
        "--executions",
        type=int,
        default=5,
        help="exécutions alternées des mesures 5 à 9 (médiane ; 5 au moins)",
    )
    parser.add_argument(
        "--seulement",
        choices=("lot", "lecture", "explorateur", "reprises", "territoires", "bilan", "audit"),
        action="append",
        help="seulement les mesures 1 à 4 (lot), 5 (lecture des CSV, propres et en désordre), "
        "8 (explorateur), 10 (reprises), 11 (nombreux territoires), 12 (bilan) ou 13 (audit "
        "du secret) ; répétable",
    )
    parser.add_argument(
        "--sans-lot",
        action="store_true",
        help="sauter les rapports (mesures 1 à 4) : lecture, erreurs, XLSX, explorateur, démarrage",
    )
    args = parser.parse_args()
    if args.executions < 5:
        parser.error("--executions : 5 au moins (médianes d'au moins 5 exécutions alternées)")
    work = Path(tempfile.mkdtemp(prefix="avs-eval-bench-"))
    try:
        print(
            f"Machine : {os.cpu_count()} cœurs ; --jobs {args.jobs} ;"
            f" médianes sur {args.repetitions}"
        )
        if args.seulement:
            if "lot" in args.seulement:
                batch_comparison(work, args)
            if "lecture" in args.seulement:
                csv_scaling(work, args.executions, args.rapide)
            if "explorateur" in args.seulement:
                explorer_section(work, args.executions)
            batch_sections(work, args.executions, args.jobs, args.seulement)
            if "bilan" in args.seulement:
                bilan_section(work, args.executions)
            if "audit" in args.seulement:
                audit_section()
            objectifs.summary()
            return 0
        if args.sans_lot:
            reading_sections(work, args.executions, args.rapide)
            bilan_section(work, args.executions)
            objectifs.summary()
            return 0
        if args.rapide:
            print("\nUne année de rapports (15 territoires + synthèse, HTML compris)")
            quick(work, args.jobs, args.repetitions)
            reading_sections(work, args.executions, quick_mode=True)
            batch_sections(work, args.executions, args.jobs, ["reprises"])
            print("\n11. Nombreux territoires : sauté en mode rapide (make bench le mesure)")
            bilan_section(work, args.executions)
            objectifs.summary()
            return 0
        batch_comparison(work, args)
        reading_sections(work, args.executions, quick_mode=False)
        batch_sections(work, args.executions, args.jobs, ["reprises", "territoires"])
        bilan_section(work, args.executions)
        audit_section()
        objectifs.summary()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
