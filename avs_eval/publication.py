"""The output folder of the batches: one writer at a time, and a year always whole.

`SORTIE/ANNEE` is a plain folder that partners' reports are copied from, so it must be
either the complete previous year or the complete new one. A batch therefore:

1. takes the folder's lock (`filelock`: the OS releases it when the process dies);
2. finishes a publication that a crash interrupted (the swap journal below), then
   removes what dead batches left (hidden staging folders, old years set aside), and
   says so: under the lock, no live batch can own them;
3. checks the free space against what the year needs;
4. writes everything into a hidden staging folder `SORTIE/.ANNEE.en-cours-PID`,
   keeping a failed territory's previous report;
5. swaps it in: a small journal of the swap is written first, then `ANNEE` is set aside,
   the staging folder renamed into place, the journal removed, the old year deleted.
   Whatever stops the process between two steps, the next batch reads the journal and
   finishes the swap (the new folder is complete by then).

When Windows refuses the swap because a report is open in a browser or Excel, the
year in place is left whole and the finished batch is kept, visible, as
`SORTIE/ANNEE-pret-a-publier`; the next run publishes it first if its inputs are the
same, and discards it (saying so) otherwise.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from avs_eval import formatting, freshness, paths, plateforme, testhooks
from avs_eval.errors import EnvironmentProblem, UsageError
from avs_eval.output import write_atomic

LOCK_NAME = ".avs-eval.lock"
SWAP_JOURNAL = ".avs-eval.bascule.json"
STAGING_MARK = ".en-cours-"
OLD_MARK = ".ancien-"
READY_SUFFIX = "-pret-a-publier"
# Space a report takes when there is no previous year to measure (the sample's largest
# territory: page, notebook and table), and the margin on top of any estimate.
REPORT_BYTES = 2_000_000
MARGIN = 1.25


class PublicationBlocked(EnvironmentProblem):
    """The new year could not replace the old one; the batch is kept, ready to publish."""

    result = None  # the batch's result, for its summary


class DiskFull(EnvironmentProblem):
    """Not enough space for the year, before the batch or while it wrote."""


def replaced_by_batches(name: str) -> bool:
    """Whether a batch may replace or delete the output folder's entry of this name.

    A year (`2025`, `2025-interne`), a batch kept ready to publish, a hidden staging
    folder or an old year set aside, and the fingerprints' state: a batch swaps them
    whole, so a file of the user's inside one of them would be lost.
    """
    if name == freshness.STATE_DIR:
        return True
    if name.startswith(".") and (STAGING_MARK in name or OLD_MARK in name):
        return True
    year = name.removesuffix(READY_SUFFIX).removesuffix(paths.INTERNAL_SUFFIX)
    return year.isdigit()


def remove(path: Path) -> None:
    """Remove a folder of the batches; a symbolic link is unlinked, its target never touched."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def folder_size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            continue
    return total


class Publication:
    """The output folder, held by one batch from its lock to its swap."""

    def __init__(
        self,
        root: Path,
        year: int | str,
        say: Callable[[str], None],
        stop_writers: Callable[[], None] | None = None,
    ) -> None:
        """`stop_writers`: stops whatever may still write into the staging folder (the
        batch's workers and kernels), called before that folder is removed when the batch
        stops early (Ctrl-C, full disk): a kernel still running would create it again."""
        self.stop_writers = stop_writers
        self.root = root
        self.year = year
        self.final = root / str(year)
        self.ready = root / f"{year}{READY_SUFFIX}"
        self.staging = root / f".{year}{STAGING_MARK}{os.getpid()}"
        self.say = say
        self.needed = 0  # bytes the year needs, once estimated

    def __enter__(self) -> Publication:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._lock = plateforme.lock(self.root / LOCK_NAME)
            self._lock.acquire()
        except plateforme.lock_refused():
            raise EnvironmentProblem(
                f"une autre production de rapports est en cours dans {paths.as_typed(self.root)} : "
                "attendez qu'elle se termine, puis relancez la commande"
            ) from None
        except OSError as error:
            raise EnvironmentProblem(
                f"impossible d'écrire dans le dossier de sortie {paths.as_typed(self.root)} "
                f"({error.strerror or error}) : choisissez-en un autre avec --sortie"
            ) from None
        try:
            recover(self.root, self.say)
            remove_debris(self.root, self.say)
            self._no_links()
        except plateforme.RenameRefused as refused:
            self._lock.release()
            culprit = refused.blocking or refused.source
            raise EnvironmentProblem(
                f"une publication de {self.year} interrompue ne peut pas être achevée : "
                f"{paths.as_typed(culprit)} est ouvert dans un autre programme (navigateur, "
                "Excel…) ou protégé en écriture. Fermez-le, puis relancez la commande"
            ) from None
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, kind, error, trace) -> None:
        try:
            if kind is not None and self.stop_writers is not None:
                self.stop_writers()
            if (self.root / SWAP_JOURNAL).exists():  # stopped mid-swap (Ctrl-C): finish it
                with contextlib.suppress(OSError):
                    recover(self.root, self.say)
            if self.staging.exists():
                shutil.rmtree(self.staging, ignore_errors=True)
        finally:
            self._lock.release()
        if isinstance(error, plateforme.RenameRefused):
            raise EnvironmentProblem(
                f"impossible de renommer {paths.as_typed(error.source)} : un de ses fichiers est "
                "ouvert dans un autre programme ou le dossier est protégé en écriture. Les "
                "rapports déjà publiés sont intacts ; fermez-le, puis relancez la commande"
            ) from None
        if isinstance(error, OSError):
            if plateforme.is_disk_full(error):
                raise self.disk_full(during=True) from None
            where = f" ({paths.as_typed(Path(error.filename))})" if error.filename else ""
            raise EnvironmentProblem(
                f"impossible d'écrire dans {paths.as_typed(self.root)}{where} : "
                f"{error.strerror or error}. Les rapports déjà publiés sont intacts ; vérifiez "
                "les droits du dossier (ou choisissez-en un autre avec --sortie), puis relancez"
            ) from None

    def _no_links(self) -> None:
        """Refuse a year's folder that is a symbolic link: the swap would replace the link.

        The new year would land in the output folder while the folder the link points
        to (a shared drive, say) kept the old reports, and the link, set aside, could
        only be unlinked: replacing it quietly would publish where no one looks.
        """
        for folder in (self.final, self.ready):
            if folder.is_symlink():
                raise UsageError(
                    f"{paths.as_typed(folder)} est un lien symbolique (vers "
                    f"{os.readlink(folder)}) : la publication remplace le dossier de l'année "
                    "en entier et ne peut pas écrire à travers un lien. Supprimez le lien, "
                    "ou indiquez avec --sortie le dossier qui contient vraiment l'année"
                )

    # --- before the notebooks -------------------------------------------------------

    def check_space(self, reports: int) -> None:
        """Refuse to start when the disk cannot hold the year (previous size, or estimate)."""
        previous = folder_size(self.final) if self.final.is_dir() else 0
        self.needed = int(max(previous, reports * REPORT_BYTES) * MARGIN)
        if plateforme.free_bytes(self.root) < self.needed:
            raise self.disk_full(during=False)

    def disk_full(self, during: bool) -> DiskFull:
        shutil.rmtree(self.staging, ignore_errors=True)
        free = plateforme.free_bytes(self.root)
        needed = self.needed or REPORT_BYTES
        space = (
            f"l'année {self.year} demande environ {formatting.megabytes(needed)}, "
            f"il en reste {formatting.megabytes(free)}"
        )
        if during:
            return DiskFull(
                f"disque plein dans {paths.as_typed(self.root)} pendant la production des rapports "
                f"({space}). Les rapports déjà publiés sont intacts et le lot inachevé a été "
                "supprimé : libérez de la place, puis relancez la commande"
            )
        return DiskFull(
            f"place insuffisante dans {paths.as_typed(self.root)} : {space}. Rien n'a été écrit : "
            "libérez de la place (ou choisissez un autre dossier avec --sortie), puis relancez"
        )

    def take_ready(self, fingerprint: str) -> dict | None:
        """A batch kept « ready to publish » by an earlier run: publish it or discard it.

        Published when it was made from the same inputs and options (its state says),
        and its manifest returned; otherwise removed, and None returned.
        """
        if not self.ready.is_dir():
            freshness.state_path(self.root, self.ready.name).unlink(missing_ok=True)
            return None
        state = freshness.read_state(self.root, self.ready.name)
        try:
            manifest = json.loads((self.ready / paths.MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = {}
        if not manifest or state.get("empreinte_lot") != fingerprint:
            shutil.rmtree(self.ready, ignore_errors=True)
            freshness.state_path(self.root, self.ready.name).unlink(missing_ok=True)
            self.say(
                f"Le lot prêt à publier {paths.as_typed(self.ready)} a été supprimé : les données "
                "ou les options ont changé depuis. Les rapports sont refaits."
            )
            return None
        self._swap(self.ready)
        self._write_state(str(self.year), state)
        freshness.state_path(self.root, self.ready.name).unlink(missing_ok=True)
        self.say(
            f"Le lot prêt à publier (mêmes données, mêmes options) a été publié dans "
            f"{paths.as_typed(self.final)} ; rien d'autre à refaire."
        )
        return manifest

    def previous_state(self) -> dict:
        """What the year in place was made from (`freshness`), to decide what to re-make."""
        return freshness.read_state(self.root, str(self.year))

    def carry_over(self, files: list[str]) -> None:
        """Copy a report's files from the year in place into the new one, byte for byte."""
        for name in files:
            target = self.staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            copy_file(self.final / name, target)

    def new_staging(self) -> Path:
        shutil.rmtree(self.staging, ignore_errors=True)
        self.staging.mkdir(parents=True)
        return self.staging

    # --- after the notebooks --------------------------------------------------------

    def keep_previous(self, outcomes) -> None:
        """A report that failed this time keeps the good one it had, if any."""
        for outcome in outcomes:
            folder = Path(outcome.folder)
            previous = self.final / folder.relative_to(self.staging)
            if not (previous / f"{outcome.stem}.html").exists():
                continue
            if outcome.stem == "synthese":
                for name in ("synthese.html", "synthese.ipynb"):
                    if (previous / name).exists():
                        copy_file(previous / name, folder / name)
            else:
                shutil.rmtree(folder, ignore_errors=True)
                copy_folder(previous, folder)
            outcome.kept_previous = True

    def write_index(self, rows: list[dict], is_sample: bool) -> None:
        write_atomic(self.staging / paths.INDEX, render_index(self.year, rows, is_sample))

    def write_manifest(self, manifest: dict) -> None:
        text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        write_atomic(self.staging / paths.MANIFEST, text)

    def publish(self, state: dict) -> None:
        """Swap the finished staging folder in, or keep it as ready to publish.

        The state (what each report was made from) is written once its folder is in
        place: a crash in between leaves an older state, which only costs re-made
        reports, since a report is carried over only if its files match the state.
        """
        self._swap(self.staging, state)
        try:
            self._write_state(str(self.year), state)
        except OSError:  # published all the same; the next batch re-makes everything
            with contextlib.suppress(OSError):
                freshness.state_path(self.root, str(self.year)).unlink(missing_ok=True)
            self.say(
                "L'état des rapports n'a pas pu être enregistré (disque plein ?) : le prochain "
                "lot les refera tous."
            )

    def _write_state(self, name: str, state: dict) -> None:
        text = json.dumps(
            {**state, "version": freshness.STATE_VERSION}, ensure_ascii=False, indent=1
        )
        write_atomic(freshness.state_path(self.root, name), text + "\n")

    def _swap(self, new: Path, state: dict | None = None) -> None:
        try:
            swap(self.root, self.year, new)
        except plateforme.RenameRefused as refused:
            if new != self.ready:
                shutil.rmtree(self.ready, ignore_errors=True)
                plateforme.rename(new, self.ready)
                if state is not None:
                    self._write_state(self.ready.name, state)
            raise self._blocked(refused) from None

    def _blocked(self, refused: plateforme.RenameRefused) -> PublicationBlocked:
        culprit = refused.blocking or refused.source
        what = "le fichier" if culprit.is_file() else "le dossier"
        return PublicationBlocked(
            f"impossible de remplacer {paths.as_typed(self.final)} : {what} "
            f"{paths.as_typed(culprit)} est ouvert dans un autre programme (navigateur, "
            "Excel…) ou protégé en écriture. "
            f"Les rapports de {self.year} en place sont intacts. Fermez-le, puis relancez la "
            "même commande : le lot terminé, gardé dans "
            f"{paths.as_typed(self.ready)}, sera publié sans tout refaire"
        )


# --- the swap and its recovery -----------------------------------------------------------


def swap(root: Path, year: int, new: Path) -> None:
    """Put the complete folder `new` in place of `root/year`, journaled step by step.

    Steps (numbered for the fault-injection tests): 1 journal written, 2 old year set
    aside, 3 new year in place, 4 journal removed, 5 old year deleted.
    """
    final = root / str(year)
    old = root / f".{year}{OLD_MARK}{os.getpid()}"
    journal = root / SWAP_JOURNAL
    record = {"annee": str(year), "nouveau": new.name, "ancien": old.name}
    write_atomic(journal, json.dumps(record, ensure_ascii=False) + "\n")
    plateforme.sync_folder(root)
    testhooks.step(1)
    try:
        if final.exists():
            plateforme.rename(final, old)
    except plateforme.RenameRefused:
        journal.unlink(missing_ok=True)  # nothing moved
        raise
    testhooks.step(2)
    try:
        plateforme.rename(new, final)
    except plateforme.RenameRefused:
        if old.exists() and not final.exists():
            plateforme.rename(old, final)  # back as it was; if refused, the journal stays
        journal.unlink(missing_ok=True)
        raise
    plateforme.sync_folder(root)
    testhooks.step(3)
    journal.unlink()
    plateforme.sync_folder(root)
    testhooks.step(4)
    remove(old)
    testhooks.step(5)


def recover(root: Path, say: Callable[[str], None]) -> None:
    """Finish a swap that a crash interrupted: the new folder is complete, put it in place."""
    journal = root / SWAP_JOURNAL
    if not journal.exists():
        return
    try:
        record = json.loads(journal.read_text(encoding="utf-8"))
        year, new, old = (
            root / record["annee"],
            root / record["nouveau"],
            root / record["ancien"],
        )
    except (OSError, ValueError, KeyError, TypeError):
        journal.unlink(missing_ok=True)  # written atomically: unreadable means not started
        return
    if new.is_dir():
        if year.exists():
            if old.exists():
                remove(old)
            plateforme.rename(year, old)
        plateforme.rename(new, year)
        plateforme.sync_folder(root)
    elif not year.exists() and old.is_dir():
        plateforme.rename(old, year)  # nothing new to publish: the old year comes back
    journal.unlink(missing_ok=True)
    plateforme.sync_folder(root)
    remove(old)
    say(
        f"Publication de {record['annee']} interrompue lors d'un lot précédent : achevée, "
        f"{paths.as_typed(year)} contient le dernier lot complet."
    )


def remove_debris(root: Path, say: Callable[[str], None]) -> None:
    """Remove what dead batches left: staging folders, old years set aside, temp files.

    Called under the lock, after `recover`: no live batch owns any of them.
    """
    removed, size = [], 0
    for path in root.iterdir():
        name = path.name
        if not name.startswith(".") or name in (LOCK_NAME, SWAP_JOURNAL):
            continue
        if (path.is_dir() or path.is_symlink()) and (STAGING_MARK in name or OLD_MARK in name):
            measured = 0 if path.is_symlink() else folder_size(path)
        elif path.is_file() and name.endswith(".tmp"):
            measured = path.stat().st_size
        else:
            continue
        remove(path)
        if os.path.lexists(path):  # not removable (rights): said as left, not as removed
            continue
        size += measured
        removed.append(name)
    if removed:
        say(
            f"Nettoyage de {paths.as_typed(root)} : "
            f"{formatting.counted(len(removed), 'élément')} "
            f"{formatting.plural(len(removed), 'laissé')} par des lots interrompus "
            f"{formatting.plural(len(removed), 'supprimé')} ({formatting.megabytes(size)}) : "
            f"{', '.join(sorted(removed))}."
        )


# --- copies and the index ------------------------------------------------------------------


def copy_file(source: Path, target: Path) -> None:
    testhooks.check_write(target)
    shutil.copy2(source, target)


def copy_folder(source: Path, target: Path) -> None:
    """Copy a folder file by file, so that a full disk raises its own OSError."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.rglob("*")):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        else:
            copy_file(path, destination)


def render_index(year: int | str, rows: list[dict], is_sample: bool) -> str:
    """The year's table of contents, from the template beside the report template.

    `year` is the folder's name: `2025`, or `2025-interne` for the internal edition.
    """
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates" / "sommaire"),
        autoescape=True,
        keep_trailing_newline=True,
    )
    environment.filters["counted"] = formatting.counted  # « 1 rapport produit », « 3 rapports… »
    return environment.get_template("index.html.j2").render(
        annee=str(year).removesuffix(paths.INTERNAL_SUFFIX),
        interne=str(year).endswith(paths.INTERNAL_SUFFIX),
        lignes=rows,
        produits=sum(1 for row in rows if row["ok"]),
        exemple=is_sample,
    )
