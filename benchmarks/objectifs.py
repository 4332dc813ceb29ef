"""Section 12 of the benchmark (the bilan at scale) and the closing table of targets.

12. The bilan: `avs-eval bilan` on the sample against the year's synthesis alone, the
    synthesis notebook through the same engine (`avs-eval rapports --territoire` of the
    smallest territory, `--jobs 1`: that territory and the synthesis are made, the
    synthesis's own seconds read from the batch's manifest; target: the bilan command,
    start to finish, within 3 times them), and on 4,000 structures x 5 years of data with
    the realistic mess of `bench.mess` (target: under a minute). Interleaved: the three
    commands once per round.

The table of targets (`summary`) closes every run of `make bench`: one line per target
of the issue (validation and indicators at scale against their floor, the batch against a
user's loop, `--pdf` against the same batch without it, the bilan, the explorer's
controls), each with its peer, the figure, the spread of its runs, the target, and
whether it holds. The sections record their figures in `RESULTS` as they measure them; a
line not measured by this run (`--rapide` skips the naive loop and the printing) says so.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
BILAN_FACTOR_TARGET = 3.0
BILAN_LARGE_TARGET_S = 60.0
BILAN_LARGE_SIZE = 4_000


@dataclass
class Result:
    """One measured figure: the median of its runs and their spread, beside its peer.

    `ratio`: the figure is compared as `value / peer` (a factor); otherwise as seconds.
    `at_least`: the target is a lower bound (the batch at least 8 times faster).
    """

    value: float
    low: float
    high: float
    target: float
    peer: float | None = None
    peer_name: str = ""
    peer_spread: tuple[float, float] | None = None  # min-max of the peer's runs
    ratio: bool = True
    at_least: bool = False
    runs: int = 0
    note: str = ""  # said after the figures (the explorer: the same with its map)

    @classmethod
    def of(cls, samples: list[float], target: float, **kwargs) -> Result:
        return cls(statistics.median(samples), min(samples), max(samples), target,
                   runs=len(samples), **kwargs)  # fmt: skip

    @property
    def figure(self) -> float:
        return self.value / self.peer if self.ratio and self.peer else self.value

    @property
    def holds(self) -> bool:
        return self.figure >= self.target if self.at_least else self.figure <= self.target


# Filled by the sections as they measure (bench.csv_scaling, bench.explorer_section,
# bilan_section): key -> Result. The batch's comparisons record theirs the same way, e.g.
#   record("lot", Result.of(naive_seconds, 8, peer=batch, peer_name="lot", at_least=True))
#   record("pdf", Result.of(pdf_seconds, 1.25, peer=without, peer_name="sans --pdf"))
RESULTS: dict[str, Result] = {}

# The lines of the closing table, in the order: key, what, how it is compared.
LINES: tuple[tuple[str, str], ...] = (
    ("valider_100000", "avs-eval valider, 100 000 × 5, en désordre"),
    ("indicateurs_100000", "avs-eval indicateurs, 100 000 × 5, en désordre"),
    ("valider_4000", "avs-eval valider, 4 000 × 5, en désordre"),
    ("indicateurs_4000", "avs-eval indicateurs, 4 000 × 5, en désordre"),
    ("lot", "boucle papermill + nbconvert / lot d'une année"),
    ("pdf", "rapports --pdf / le même lot sans"),
    ("bilan", "avs-eval bilan (échantillon) / synthèse seule"),
    ("bilan_4000", "avs-eval bilan, 4 000 × 5, en désordre"),
    ("explorateur_echantillon", "explorateur, contrôle le plus lent, échantillon"),
    ("explorateur_4000", "explorateur, contrôle le plus lent, 4 000 str."),
)
WHERE = {  # the section that measures each line, said when this run did not
    "valider_100000": "mesure 5",
    "indicateurs_100000": "mesure 5",
    "valider_4000": "mesure 5",
    "indicateurs_4000": "mesure 5",
    "lot": "mesure 1 ; sautée par --rapide",
    "pdf": "mesure 1 ; sautée par --rapide",
    "bilan": "mesure 12",
    "bilan_4000": "mesure 12",
    "explorateur_echantillon": "mesure 8",
    "explorateur_4000": "mesure 8",
}


def record(key: str, result: Result) -> None:
    RESULTS[key] = result


# --- 12. the bilan ------------------------------------------------------------------------


def _manifest_seconds(folder: Path, name: str | None = None) -> float:
    """A notebook's seconds (run and export) in the manifest of a batch written to `folder`."""
    manifest = next(folder.glob("*/manifest.json"))
    notebooks = json.loads(manifest.read_text(encoding="utf-8"))["notebooks"]
    made = [n for n in notebooks if n["refait"] and (name is None or n["nom"] == name)]
    return float(made[0]["secondes"])


def smallest_territory() -> str:
    """The sample's territory with the fewest structures: the cheapest report beside the
    synthesis."""
    from avs_eval.loading import load

    counts = load().structures["territoire"].value_counts()
    return str(counts.index[-1])


def bilan_section(work: Path, runs: int, synthetic, child, spread) -> None:
    """`avs-eval bilan` on the sample against the synthesis alone, and at 4,000 x 5."""
    s_path, r_path = synthetic(work, BILAN_LARGE_SIZE, messy=True)
    territory = smallest_territory()
    out = work / "bilan"
    commands = {
        "synthese": [BIN / "avs-eval", "rapports", "--territoire", territory, "--jobs", "1",
                     "--sortie", out / "annee"],
        "bilan": [BIN / "avs-eval", "bilan", "--tout", "--sortie", out / "bilan"],
        "bilan_4000": [BIN / "avs-eval", "bilan", "--tout", "--sortie", out / "grand",
                       "--structures", s_path, "--reponses", r_path],
    }  # fmt: skip
    walls: dict[str, list[float]] = {name: [] for name in commands}
    notebooks: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, float] = dict.fromkeys(commands, 0.0)
    for _ in range(runs):
        for name, argv in commands.items():
            seconds, mib = child(argv, 0)
            walls[name].append(seconds)
            peaks[name] = max(peaks[name], mib)
            folder = Path(argv[argv.index("--sortie") + 1])
            notebooks[name].append(
                _manifest_seconds(folder, "Synthèse" if name == "synthese" else None)
            )
    synthesis = statistics.median(notebooks["synthese"])
    bilan = Result.of(
        walls["bilan"],
        BILAN_FACTOR_TARGET,
        peer=synthesis,
        peer_name="notebook de synthèse",
        peer_spread=(min(notebooks["synthese"]), max(notebooks["synthese"])),
    )
    large = Result.of(walls["bilan_4000"], BILAN_LARGE_TARGET_S, ratio=False)
    record("bilan", bilan)
    record("bilan_4000", large)
    print(
        f"\n12. Le bilan du schéma (médianes de {runs} exécutions alternées, min-max ;"
        f" charge au départ : {load_average()})"
    )
    print(
        f"   synthèse seule (notebook, même moteur : rapports --territoire « {territory} »"
        f" --jobs 1) : {synthesis:6.2f} s ({spread(notebooks['synthese'])}) ; "
        f"la commande entière : {statistics.median(walls['synthese']):6.2f} s"
    )
    print(
        f"   avs-eval bilan, échantillon : {bilan.value:6.2f} s ({spread(walls['bilan'])})"
        f" {peaks['bilan']:5.0f} Mio, dont le notebook {statistics.median(notebooks['bilan']):5.2f}"
        f" s  -> {bilan.figure:4.2f} × la synthèse (objectif ≤ {BILAN_FACTOR_TARGET:.0f} ×)"
        + ("" if bilan.holds else "   OBJECTIF MANQUÉ")
    )
    print(
        f"   avs-eval bilan, {BILAN_LARGE_SIZE:_} structures × 5 ans en désordre : "
        f"{large.value:6.2f} s ({spread(walls['bilan_4000'])}) {peaks['bilan_4000']:5.0f} Mio,"
        f" dont le notebook {statistics.median(notebooks['bilan_4000']):5.2f} s"
        f" (objectif < {BILAN_LARGE_TARGET_S:.0f} s)".replace("_", " ")
        + ("" if large.holds else "   OBJECTIF MANQUÉ")
    )


# --- the closing table ----------------------------------------------------------------------


def load_average() -> str:
    """The machine's load (1, 5, 15 min), beside figures taken on a shared machine."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "inconnue"
    return f"{one:.1f} {five:.1f} {fifteen:.1f} ({os.cpu_count()} cœurs)"


def _target_text(key: str, result: Result) -> str:
    if not result.ratio:
        return f"< {result.target:g} s"
    sign = "≥" if result.at_least else "≤"
    return f"{sign} {result.target:g} ×".replace(".", ",")


def _figure_text(result: Result) -> str:
    if not result.ratio:
        return f"{result.value:.2f} s"
    return f"{result.figure:.2f} ×"


def _measured_text(result: Result) -> str:
    """The figure's seconds and the spread of its runs; the peer's seconds beside."""
    text = f"{result.value:.2f} s ({result.low:.2f}-{result.high:.2f}, sur {result.runs})"
    if result.ratio and result.peer:
        text += f" contre {result.peer:.2f} s"
        if result.peer_spread:
            text += f" ({result.peer_spread[0]:.2f}-{result.peer_spread[1]:.2f})"
        text += f", {result.peer_name}"
    return f"{text} ; {result.note}" if result.note else text


def summary() -> None:
    """Every target of the issue on one line: measured, peer, factor, target, held."""
    print(f"\nRécapitulatif des objectifs (charge de la machine à la fin : {load_average()})")
    print(f"   {'mesure':48s} {'obtenu':>9s}  {'objectif':9s}  tenu   médiane (min-max) et pair")
    for key, label in LINES:
        result = RESULTS.get(key)
        if result is None:
            print(f"   {label:48s} {'—':>9s}  {'':9s}  —      non mesuré ici ({WHERE[key]})")
            continue
        held = "oui" if result.holds else "NON"
        print(
            f"   {label:48s} {_figure_text(result):>9s}  {_target_text(key, result):9s}"
            f"  {held:5s}  {_measured_text(result)}"
        )
    print(
        "   (machine partagée : une ligne manquée sous charge se vérifie au calme ;"
        " médianes d'exécutions alternées, min-max entre parenthèses)"
    )
