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

An untimed batch runs first (warm caches for every method). Timings are medians over
`--repetitions` runs (default 1: the naive loop alone takes
minutes). Run: `make bench` or `.venv/bin/python benchmarks/bench.py --help`.
"""

from __future__ import annotations

import argparse
import json
import os
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
import pandas as pd

from avs_eval import paths
from avs_eval.batch import SYNTHESIS_NOTEBOOK, TERRITORY_NOTEBOOK, WARM_UP_CODE
from avs_eval.catalog import load_catalog
from avs_eval.context import slug
from avs_eval.loading import DataSource, load

CATALOG = load_catalog()


BIN = Path(sys.executable).parent
YEAR = 2025
SIZES = (150, 4_000, 100_000)


def median_time(function, repetitions: int) -> float:
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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


def run_batch(folder: Path, jobs: int, portable: bool = False) -> None:
    """`avs-eval rapports`; `portable`: the non-POSIX path (TCP kernels, no signals)."""
    environment = {**os.environ, "AVS_EVAL_PORTABLE": "1" if portable else "0"}
    subprocess.run(
        [BIN / "avs-eval", "rapports", "--sortie", str(folder), "--jobs", str(jobs)],
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
    work_s = sum(n["cells_seconds"] for n in notebooks) / len(notebooks)
    per_report = batch * jobs / len(notebooks)
    print(f"   avs-eval rapports (noyaux chauds)           : {batch:7.1f} s")
    print(f"   même lot, chemin portable (AVS_EVAL_PORTABLE=1) : {portable:7.1f} s")
    print(f"   démarrage d'un noyau + imports des notebooks : {floor:5.2f} s")
    print(f"   travail des cellules par rapport (noyau chaud) : {work_s:5.2f} s")
    print(
        f"   temps du lot par rapport et par processus      : {per_report:5.2f} s"
        f"   -> {per_report / work_s:4.2f} x le travail, {per_report / floor:4.2f} x le plancher"
    )


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


def synthetic(directory: Path, structures: int, seed: int = 2022) -> tuple[Path, Path]:
    """A register of `structures` structures and 5 years of answers, built with numpy."""

    rng = np.random.default_rng(seed)
    sample = pd.read_csv(paths.SAMPLE_STRUCTURES, dtype=str, keep_default_na=False)
    places = sample[["commune", "code_insee", "territoire", "collectivite"]].drop_duplicates()
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
                codes = [
                    m.code
                    for m in question.modalites
                    if not m.exclusive and m.asked_in(year)
                ]
                suffixed = np.array([c + ";" for c in codes], dtype=object)
                chosen = rng.random((n, len(codes))) < 0.3
                joined = np.where(chosen, suffixed, "").sum(axis=1).astype(str)
                joined = np.char.rstrip(joined, ";")
                if question.condition:
                    joined = np.where(frame[question.condition] == "oui", joined, "")
                frame[question.colonne] = joined
            else:
                frame[question.colonne] = ""
        frames.append(pd.DataFrame(frame))
    answers = pd.concat(frames, ignore_index=True)
    s_path, r_path = (
        directory / f"structures_{structures}.csv",
        directory / f"reponses_{structures}.csv",
    )
    register.to_csv(s_path, index=False)
    answers.to_csv(r_path, index=False)
    return s_path, r_path


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


# --- main --------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description="Mesures de performance d'avs-eval.")
    parser.add_argument("--repetitions", type=int, default=1, help="répétitions (médiane)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sans-boucle-naive", action="store_true", help="sauter la boucle naïve")
    parser.add_argument(
        "--rapide",
        action="store_true",
        help="le lot seul (chemins POSIX et portable) et le plancher, sans comparaison",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="avs-eval-bench-"))
    try:
        print(
            f"Machine : {os.cpu_count()} cœurs ; --jobs {args.jobs} ;"
            f" médianes sur {args.repetitions}"
        )
        if args.rapide:
            print("\nUne année de rapports (15 territoires + synthèse, HTML compris)")
            quick(work, args.jobs, args.repetitions)
            return 0
        print("\n1. Une année de rapports (15 territoires + synthèse, HTML compris)")
        batch_folder = work / "lot"
        # One untimed batch first: the file-system cache and Python's bytecode cache are
        # then warm for every method measured, not only for those that run later.
        run_batch(work / "echauffement", args.jobs)
        batch = median_time(lambda: run_batch(batch_folder, args.jobs), args.repetitions)
        fresh = median_time(
            lambda: subprocess.run(
                [
                    BIN / "avs-eval",
                    "rapports",
                    "--sortie",
                    str(work / "neuf"),
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
        print(f"   avs-eval rapports (noyaux chauds)      : {batch:7.1f} s")
        print(f"   avs-eval rapports --noyau-neuf         : {fresh:7.1f} s")
        print(
            f"   API Papermill + pool de {args.jobs} processus  : {pool:7.1f} s"
            f"   -> lot {pool / batch:4.1f} x plus rapide"
        )
        if not args.sans_boucle_naive:
            naive_folder = work / "naif"
            naive_folder.mkdir()
            naive = median_time(lambda: run_naive(naive_folder), args.repetitions)
            print(
                f"   boucle naïve papermill + nbconvert CLI : {naive:7.1f} s"
                f"   -> lot {naive / batch:4.1f} x plus rapide"
            )

        print("\n2. Le plancher")
        floor = kernel_floor()
        manifest = json.loads((batch_folder / str(YEAR) / "manifest.json").read_text())
        notebooks = manifest["notebooks"]
        work_s = sum(n["cells_seconds"] for n in notebooks) / len(notebooks)
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
        growth = (large["calcul_s"] / small["calcul_s"]) / (
            large["structures"] / small["structures"]
        )
        print(f"   croissance du calcul 4 000 -> 100 000 : {growth:4.2f} x la croissance linéaire")

        print("\n4. Taille des rapports HTML")
        pages = [
            p
            for p in sorted((batch_folder / str(YEAR)).glob("**/*.html"))
            if p.name != "index.html"
        ]
        sizes = {
            p.relative_to(batch_folder / str(YEAR)).as_posix(): p.stat().st_size for p in pages
        }
        for name, size in sorted(sizes.items(), key=lambda item: -item[1])[:5]:
            print(f"   {name:55s} {size / 1e6:5.2f} Mo")
        print(
            f"   le plus gros : {max(sizes.values()) / 1e6:.2f} Mo ; le plus petit : "
            f"{min(sizes.values()) / 1e6:.2f} Mo ({len(sizes)} pages)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
