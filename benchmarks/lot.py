"""Sections 10 and 11 of the benchmark: re-runs, and a year of many territories.

10. Re-runs cost only what changed: the full batch (`--tout`), a second run with
    nothing changed, and a run after one territory's commentary was edited, interleaved,
    each as a share of the full batch (targets: 15 % and 30 %).
11. Many territories: the batch (HTML and maps) on the sample (15 territories) and on
    4,000 structures in 100 territories, interleaved; the wall time per report of the
    second against the first (target 1.15), the peak memory of each process (the batch,
    its workers, their kernels) and how a warm kernel's memory moves from its first
    reports to its last, and the synthesis's size (target 1.5 MB).

Memory is read from /proc (Linux) by a thread that samples every process the batch
started; elsewhere the section says so and gives the times only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from avs_eval import commentaires, paths

BIN = Path(sys.executable).parent
YEAR = 2025
MIB = 2**20
JOBS = os.cpu_count() or 1  # set by bench.py from its --jobs


# --- watching the processes of a batch ------------------------------------------------------


@dataclass
class Memory:
    """Peak resident memory per process of a batch, by role, from /proc."""

    peaks: dict[int, tuple[str, float]] = field(default_factory=dict)  # pid -> (role, MiB)
    series: dict[int, tuple[str, list[float]]] = field(default_factory=dict)  # pid -> samples

    def peak(self, role: str) -> float:
        values = [mib for r, mib in self.peaks.values() if r == role]
        return max(values) if values else float("nan")

    def drift(self, role: str) -> tuple[float, float]:
        """A process's memory over its first quarter of life and over its last (MiB)."""
        firsts, lasts = [], []
        for which, samples in self.series.values():
            if which != role or len(samples) < 8:
                continue
            quarter = len(samples) // 4
            firsts.append(max(samples[:quarter]))
            lasts.append(max(samples[-quarter:]))
        if not firsts:
            return float("nan"), float("nan")
        return max(firsts), max(lasts)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def _rss(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "lot"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            command = handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "autre"
    if "ipykernel" in command:
        return "noyau"
    if "multiprocessing" in command:
        return "travailleur"
    return "autre"


def watch(process: subprocess.Popen, memory: Memory, every: float = 0.2) -> threading.Thread:
    def run() -> None:
        while process.poll() is None:
            tree = _children()
            pending, seen = [process.pid], []
            while pending:
                pid = pending.pop()
                seen.append(pid)
                pending.extend(tree.get(pid, []))
            for pid in seen:
                mib = _rss(pid)
                if mib is None:
                    continue
                role = memory.peaks.get(pid, (None, 0.0))[0] or _role(pid, process.pid)
                memory.peaks[pid] = (role, max(mib, memory.peaks.get(pid, (role, 0.0))[1]))
                if role in ("noyau", "travailleur"):
                    memory.series.setdefault(pid, (role, []))[1].append(mib)
            time.sleep(every)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def batch(output: Path, *extra: str) -> tuple[float, dict, Memory]:
    """`avs-eval rapports` once: wall seconds, its manifest, its processes' memory."""
    jobs = JOBS
    memory = Memory()
    started = time.perf_counter()
    process = subprocess.Popen(
        [BIN / "avs-eval", "rapports", "--sortie", str(output), "--jobs", str(jobs), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    watcher = watch(process, memory) if Path("/proc/self/status").exists() else None
    _, errors = process.communicate()
    seconds = time.perf_counter() - started
    if watcher is not None:
        watcher.join()
    if process.returncode != 0:
        command = " ".join(extra)
        raise SystemExit(f"avs-eval rapports {command} : code {process.returncode}\n{errors}")
    manifest = json.loads((output / str(YEAR) / "manifest.json").read_text(encoding="utf-8"))
    return seconds, manifest, memory


# --- 10. re-runs --------------------------------------------------------------------------


def reruns(work: Path, runs: int, med, spread) -> None:
    """The full batch, a run with nothing changed, a run after one commentary edit."""
    output = work / "reprises"
    commentary = commentaires.path_for(YEAR, "lyon")
    original = commentary.read_bytes() if commentary.exists() else None
    full, nothing, one = [], [], []
    remade_after_edit = set()
    try:
        batch(output, "--tout")  # untimed: the year exists before the first comparison
        for round_ in range(runs):
            full.append(batch(output, "--tout")[0])
            nothing.append(batch(output)[0])
            commentary.parent.mkdir(parents=True, exist_ok=True)
            text = (original or b"").decode("utf-8") + f"\n\nMesure {round_} du banc d'essai.\n"
            commentary.write_text(text, encoding="utf-8")
            seconds, manifest, _ = batch(output)
            one.append(seconds)
            remade_after_edit |= {n["nom"] for n in manifest["notebooks"] if n["refait"]}
    finally:
        if original is None:
            commentary.unlink(missing_ok=True)
        else:
            commentary.write_bytes(original)
    base = med(full)
    print(f"   lot complet (--tout)                      : {base:6.2f} s ({spread(full)})")
    print(
        f"   rien de changé                            : {med(nothing):6.2f} s ({spread(nothing)})"
        f"   -> {med(nothing) / base:5.1%} du lot complet (cible < 15 %)"
    )
    print(
        f"   commentaire de Lyon modifié               : {med(one):6.2f} s ({spread(one)})"
        f"   -> {med(one) / base:5.1%} du lot complet (cible < 30 %)"
    )
    print(f"   rapports refaits après la modification    : {', '.join(sorted(remade_after_edit))}")


# --- 11. many territories -------------------------------------------------------------------


def many_territories(
    directory: Path, synthetic, structures: int = 4_000, territories: int = 100
) -> tuple[Path, Path, Path]:
    """The Rhône's 278 communes split into `territories` territories, and the data.

    Each sample territory's communes are split in as many parts as its share of the
    communes gives, so that every territory stays within one collectivité; the
    structures are spread over the communes.
    """
    shapes = json.loads(paths.DEFAULT_BACKGROUND.read_text(encoding="utf-8"))
    names = {f["properties"]["code"]: f["properties"]["nom"] for f in shapes["features"]}
    table = pd.read_csv(paths.SAMPLE_COMMUNE_TERRITORIES, dtype=str)
    sample = pd.read_csv(paths.SAMPLE_STRUCTURES, dtype=str, keep_default_na=False)
    collectivite = dict(zip(sample["territoire"], sample["collectivite"], strict=False))
    rows = []
    groups = sorted(table.groupby("territoire"), key=lambda item: -len(item[1]))
    left = territories
    for position, (territory, communes) in enumerate(groups):
        share = round(territories * len(communes) / len(table))
        parts = max(1, min(len(communes), share, left - (len(groups) - position - 1)))
        left -= parts
        codes = sorted(communes["code_insee"])
        for k, chunk in enumerate(np.array_split(codes, parts), start=1):
            name = territory if parts == 1 else f"{territory} {k}"
            for code in chunk:
                rows.append(
                    {
                        "commune": names.get(code, code),
                        "code_insee": code,
                        "territoire": name,
                        "collectivite": collectivite[territory],
                    }
                )
    places = pd.DataFrame(rows)
    s_path, r_path = synthetic(directory, structures, places=places)
    c_path = directory / "communes_territoires_100.csv"
    places[["code_insee", "territoire"]].to_csv(c_path, index=False)
    return s_path, r_path, c_path


def territories_section(work: Path, runs: int, synthetic, med, spread) -> None:
    s_path, r_path, c_path = many_territories(work, synthetic)
    big = [
        "--structures", str(s_path), "--reponses", str(r_path),
        "--communes-territoires", str(c_path), "--annee", str(YEAR), "--tout",
    ]  # fmt: skip
    small_runs, big_runs = [], []
    for _ in range(runs):
        small_runs.append(batch(work / "territoires-15", "--tout"))
        big_runs.append(batch(work / "territoires-100", *big))

    def per_report(run) -> float:
        return run[0] / len(run[1]["notebooks"])

    small = [per_report(run) for run in small_runs]
    large = [per_report(run) for run in big_runs]
    ratios = [b / s for s, b in zip(small, large, strict=True)]
    reports = len(big_runs[0][1]["notebooks"])
    print(
        f"   échantillon, 15 territoires + synthèse    : {med(small):5.2f} s par rapport "
        f"({spread(small)}), lot {med([r[0] for r in small_runs]):6.1f} s"
    )
    print(
        f"   4 000 structures, {reports - 1} territoires + synthèse : {med(large):5.2f} s par "
        f"rapport ({spread(large)}), lot {med([r[0] for r in big_runs]):6.1f} s"
    )
    print(
        f"   rapport à 100 territoires / à 15          : {med(ratios):5.2f} x "
        f"({spread(ratios)}) (cible <= 1,15)"
    )
    for label, chosen in (("15 territoires", small_runs), ("100 territoires", big_runs)):
        memory = [run[2] for run in chosen]
        if not any(m.peaks for m in memory):
            print(f"   mémoire ({label}) : non mesurée (pas de /proc sur ce système)")
            continue
        print(
            f"   mémoire de pointe ({label}) : lot {max(m.peak('lot') for m in memory):5.0f} Mio,"
            f" travailleur {max(m.peak('travailleur') for m in memory):4.0f} Mio,"
            f" noyau {max(m.peak('noyau') for m in memory):4.0f} Mio"
        )
        for role, name in (("travailleur", "travailleur"), ("noyau", "noyau chaud")):
            first, last = zip(*(m.drift(role) for m in memory), strict=True)
            print(
                f"     {name} : {max(first):4.0f} Mio sur le premier quart de sa vie,"
                f" {max(last):4.0f} Mio sur le dernier"
            )
    synthesis = work / "territoires-100" / str(YEAR) / "synthese.html"
    pages = sorted((work / "territoires-100" / str(YEAR)).glob("*/rapport.html"))
    print(
        f"   synthèse à 100 territoires                : {synthesis.stat().st_size / 1e6:5.2f} Mo"
        f" (cible < 1,5 Mo) ; rapport de territoire le plus gros : "
        f"{max(p.stat().st_size for p in pages) / 1e6:4.2f} Mo"
    )
