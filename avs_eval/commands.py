"""What each `avs-eval` command does, once `cli` has parsed its options.

One function per command, `cmd_<name>(args) -> exit code`, named in `cli.COMMANDS`.
Each imports what it needs inside itself: `avs-eval --help` and a command that reads
no data load neither pandas nor matplotlib.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from avs_eval.errors import EXIT_INVALID, UsageError, ValidationError
from avs_eval.formatting import count, counted, plural
from avs_eval.options import BatchOptions, ReportOptions


def _write_csv(content: str, rows: int, sortie: str | None) -> None:
    """A table to `sortie` (atomically, said on stderr), or to the standard output."""
    from avs_eval.output import write_atomic

    if sortie:
        write_atomic(Path(_from_cwd(sortie)), content)
        print(f"{rows} lignes écrites dans {sortie}", file=sys.stderr)
    elif content.startswith("\ufeff") and hasattr(sys.stdout, "buffer"):
        # French Excel's form ends its lines with \r\n: as written, no second \r on Windows
        sys.stdout.flush()
        sys.stdout.buffer.write(content.encode("utf-8"))
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(content)


def _table_csv(table, columns: list[str], form: str, machine: Callable) -> str:
    """A table as CSV in the form asked: `machine` (the contract's, for programs: UTF-8,
    `,`, decimal point, True/False) or `excel` (French Excel's, as the tables beside the
    reports: BOM, `;`, decimal comma, labels beside the codes, oui/non)."""
    if form == "excel":
        from avs_eval.tableur import published_csv

        return published_csv(table[columns])
    return machine(table)


def _from_cwd(path: str | None) -> str | None:
    """On the command line a relative path means the current folder, as in any shell tool."""
    return str(Path(path).absolute()) if path else None


def _load(args):
    from avs_eval.loading import DataSource, load

    files = (_from_cwd(args.structures), _from_cwd(args.reponses), _from_cwd(args.classeur))
    return load(DataSource.from_options(*files))


def print_warnings(dataset_warnings, stream=sys.stderr) -> None:
    from avs_eval.errors import listing  # the first 50, then a count per rule (as `valider`)

    if not dataset_warnings:
        return
    print(f"{counted(len(dataset_warnings), 'avertissement')} (données acceptées) :", file=stream)
    print("\n".join(listing(dataset_warnings, "avertissement")), file=stream)


def cmd_valider(args) -> int:
    from avs_eval.errors import EnvironmentProblem, findings_csv, listing
    from avs_eval.output import write_atomic

    target = Path(args.erreurs).absolute() if args.erreurs else None

    def write(findings) -> None:
        try:
            write_atomic(target, findings_csv(findings))
        except OSError as exc:
            raise EnvironmentProblem(
                f"impossible d'écrire {args.erreurs} ({exc.strerror}) : choisissez un "
                "dossier où vous pouvez écrire, ou fermez le fichier s'il est ouvert"
            ) from None

    try:
        dataset = _load(args)
    except ValidationError as invalid:
        print(invalid.report(), file=sys.stderr)
        if invalid.warnings:
            print(f"{counted(len(invalid.warnings), 'avertissement')} :", file=sys.stderr)
            print("\n".join(listing(invalid.warnings, "avertissement")), file=sys.stderr)
        if target:  # every error: what the evaluator works through
            write(invalid.errors)
            print(f"toutes les erreurs sont écrites dans {args.erreurs}", file=sys.stderr)
        return EXIT_INVALID
    print(dataset.summary())
    if dataset.warnings:
        print(f"{counted(len(dataset.warnings), 'avertissement')} (données acceptées) :")
        print("\n".join(listing(dataset.warnings, "avertissement")))
    if target:
        write(dataset.warnings)
        print(f"aucune erreur ; les avertissements sont écrits dans {args.erreurs}")
    return 0


def cmd_evolutions(args) -> int:
    from avs_eval import evolutions

    dataset = _load(args)
    print_warnings(dataset.warnings)
    table = evolutions.compute(
        dataset,
        annee=args.annee,
        reference=args.reference,
        territoire=args.territoire,
        min_effectif=args.min_effectif,
    )
    content = _table_csv(table, evolutions.COLUMNS, args.format, evolutions.to_csv)
    _write_csv(content, len(table), args.sortie)
    return 0


def cmd_commentaires(args) -> int:
    from avs_eval import commentaires, paths
    from avs_eval.context import slug

    if args.bilan:
        return _bilan_commentary(args)
    dataset = _load(args)
    year = dataset.check_year(args.annee)
    created, kept = commentaires.create_missing(
        year, {name: slug(name) for name in dataset.territories}
    )
    folder = paths.display_path(commentaires.folder(year))
    print(
        f"{counted(len(created), 'fichier')} de commentaire {plural(len(created), 'créé')}, "
        f"{count(len(kept))} déjà {plural(len(kept), 'présent')} et "
        f"{plural(len(kept), 'laissé tel quel', 'laissés tels quels')}, dans {folder}/"
    )
    for path in created:
        print(f"  + {path.name}")
    print(
        "Écrivez votre analyse sous les titres utiles : elle paraîtra dans la section "
        "« Analyse de l'évaluateur » des rapports de la prochaine production."
    )
    return 0


def _bilan_commentary(args) -> int:
    """`commentaires --bilan`: the bilan's conclusions, from their template; never overwritten."""
    from avs_eval import bilan_lot, paths

    if args.annee is not None:
        raise UsageError("--annee ne sert pas avec --bilan : le bilan a un seul fichier")
    path, created = bilan_lot.write_commentary_template()
    shown = paths.display_path(path)
    if not created:
        print(f"{shown} existe déjà : il est laissé tel quel (rien n'est écrasé).")
        return 0
    print(
        f"{shown} créé. Écrivez-y vos conclusions et vos recommandations pour le prochain "
        "schéma : elles paraîtront dans la section « Conclusions et recommandations » du "
        "bilan à sa prochaine production (avs-eval bilan)."
    )
    return 0


def cmd_suivi(args) -> int:
    from avs_eval import suivi

    annee = args.annee if args.annee is not None else suivi.default_year()
    outcome = suivi.write_template(annee)
    print(outcome.message)
    return 0


def cmd_indicateurs(args) -> int:
    from avs_eval import indicators

    dataset = _load(args)
    print_warnings(dataset.warnings)
    table = indicators.compute(
        dataset,
        annees=[args.annee] if args.annee is not None else None,
        min_effectif=args.min_effectif,
        territoire=args.territoire,
    )
    if args.sortie and _is_xlsx(args.sortie):
        from avs_eval.excel import write_indicators

        threshold = dataset.config.min_effectif if args.min_effectif is None else args.min_effectif
        write_indicators(Path(args.sortie), table, threshold)
        print(f"{len(table)} lignes écrites dans {args.sortie}", file=sys.stderr)
    else:
        content = _table_csv(table, indicators.COLUMNS, args.format, indicators.to_csv)
        _write_csv(content, len(table), args.sortie)
    return 0


def _is_xlsx(path: str) -> bool:
    return Path(path).suffix.lower() == ".xlsx"


def cmd_modele(args) -> int:
    from avs_eval.excel import write_template

    if not _is_xlsx(args.sortie):
        raise UsageError(
            f"le modèle est un classeur Excel : --sortie doit finir par .xlsx (lu : {args.sortie})"
        )
    write_template(Path(_from_cwd(args.sortie)))
    print(f"modèle de saisie écrit dans {args.sortie}", file=sys.stderr)
    return 0


def cmd_questionnaire(args) -> int:
    from avs_eval import questionnaire
    from avs_eval.config import load_config
    from avs_eval.loading import load_structures
    from avs_eval.output import write_atomic

    if args.format == "xlsform" and not _is_xlsx(args.sortie):
        raise UsageError(
            f"un XLSForm est un classeur Excel : --sortie doit finir par .xlsx (lu : {args.sortie})"
        )
    structures = load_structures(_from_cwd(args.structures)) if args.structures else None
    config = load_config()
    if args.format == "xlsform":
        content = questionnaire.xlsform(config, structures)
    else:
        content = questionnaire.markdown(config, structures)
    write_atomic(Path(_from_cwd(args.sortie)), content)
    print(f"questionnaire ({args.format}) écrit dans {args.sortie}", file=sys.stderr)
    return 0


def cmd_importer(args) -> int:
    from avs_eval import paths
    from avs_eval.importer import import_export
    from avs_eval.loading import load_structures
    from avs_eval.output import write_atomic

    if args.source == "correspondance" and not args.correspondance:
        raise UsageError(
            "--source correspondance demande --correspondance FICHIER.yaml (exemple : "
            "parameters/correspondances/google_forms.yaml)"
        )
    if args.source == "kobo" and args.correspondance:
        raise UsageError("--correspondance ne sert qu'avec --source correspondance")
    if Path(args.sortie).suffix.lower() != ".csv":
        raise UsageError(f"--sortie doit être un fichier .csv (lu : {args.sortie})")
    # Like every command, the sample's register by default: the import is checked against a
    # register either way, and the messages say which one.
    register = _from_cwd(args.structures) or str(paths.SAMPLE_STRUCTURES)
    hint = (
        ""
        if args.structures
        else "registre utilisé : celui de l'échantillon fictif (data/exemple/structures.csv) ; "
        "indiquez le vôtre avec --structures FICHIER"
    )
    try:
        result = import_export(
            args.source,
            _from_cwd(args.fichier),
            mapping=_from_cwd(args.correspondance),
            structures=load_structures(register),
        )
    except ValidationError as invalid:
        print(invalid.report(), file=sys.stderr)
        print_warnings(invalid.warnings)
        if hint:
            print(hint, file=sys.stderr)
        return EXIT_INVALID
    print_warnings(result.warnings)
    write_atomic(Path(_from_cwd(args.sortie)), result.csv())
    print(result.summary(), file=sys.stderr)
    if hint:
        print(hint, file=sys.stderr)
    print(f"réponses écrites dans {args.sortie}", file=sys.stderr)
    return 0


def cmd_rapports(args) -> int:
    from avs_eval.batch import run_batch
    from avs_eval.publication import PublicationBlocked

    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs doit être au moins 1 (lu : {args.jobs})")
    if args.modele_word and not args.docx:
        raise UsageError("--modele-word ne sert qu'avec --docx")
    report = ReportOptions(
        annee=args.annee,
        fichier_structures=_from_cwd(args.structures) or "",
        fichier_reponses=_from_cwd(args.reponses) or "",
        classeur=_from_cwd(args.classeur) or "",
        min_effectif=args.min_effectif,
        verbatims=args.verbatims,
        interne=args.interne,
        fond_de_carte=_from_cwd(args.fond_de_carte) or "",
        champ_insee=args.champ_insee,
        communes_territoires=_from_cwd(args.communes_territoires) or "",
    )
    options = BatchOptions(
        report=report,
        territoires=tuple(args.territoire) if args.territoire is not None else None,
        tout=args.tout,
        jobs=args.jobs,
        sortie=_from_cwd(args.sortie),
        pdf=args.pdf,
        navigateur=args.navigateur,  # a path, or a command found on PATH
        docx=args.docx,
        modele_word=_from_cwd(args.modele_word),
        noyau_neuf=args.noyau_neuf,
        delai=args.delai,
        modele=_from_cwd(args.modele),
        journal=_from_cwd(args.journal),
    )
    try:
        record = run_batch(options)
    except PublicationBlocked as blocked:  # the reports are made but not published
        if blocked.result is not None:
            print(blocked.result.summary())
        print(f"avs-eval : erreur : {blocked}", file=sys.stderr)
        return max(blocked.exit_code, blocked.result.exit_code() if blocked.result else 0)
    print(record.summary())
    return record.exit_code()


def cmd_bilan(args) -> int:
    from avs_eval import bilan_lot
    from avs_eval.publication import PublicationBlocked

    report = ReportOptions(
        fichier_structures=_from_cwd(args.structures) or "",
        fichier_reponses=_from_cwd(args.reponses) or "",
        classeur=_from_cwd(args.classeur) or "",
        min_effectif=args.min_effectif,
        interne=args.interne,
    )
    options = BatchOptions(
        report=report,
        tout=args.tout,
        sortie=_from_cwd(args.sortie),
        pdf=args.pdf,
        navigateur=args.navigateur,
        docx=args.docx,
        modele_word=_from_cwd(args.modele_word),
        delai=args.delai,
        journal=_from_cwd(args.journal),
    )
    if args.modele_word and not args.docx:
        raise UsageError("--modele-word ne sert qu'avec --docx")
    try:
        record = bilan_lot.run(options, args.debut, args.fin)
    except PublicationBlocked as blocked:  # the bilan is made but not published
        if blocked.result is not None:
            print(blocked.result.summary())
        print(f"avs-eval : erreur : {blocked}", file=sys.stderr)
        return max(blocked.exit_code, blocked.result.exit_code() if blocked.result else 0)
    print(record.summary())
    return record.exit_code()


def cmd_lab(args) -> int:
    from avs_eval import lab

    return lab.main(args.options_jupyterlab)
