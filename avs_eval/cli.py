"""The `avs-eval` command: French help, French errors, no traceback for the user's mistakes."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from avs_eval import __version__
from avs_eval.errors import (
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_USAGE,
    AvsEvalError,
    UsageError,
    ValidationError,
)
from avs_eval.options import BatchOptions, ReportOptions, default_of

EXIT_CODES_HELP = (
    "Codes de sortie : 0 tout va bien ; 1 données ou paramètres invalides, ou un rapport\n"
    "en échec ; 2 option mal employée ; 3 problème d'environnement (autre lot en cours,\n"
    "dossier non inscriptible, disque plein, fichier ouvert dans un autre programme,\n"
    "aucun navigateur pour --pdf) ; 130 interrompu (Ctrl-C). Si plusieurs s'appliquent,\n"
    "le plus élevé l'emporte."
)

_ARGPARSE_FR = [
    (r"^the following arguments are required: (.*)$", r"arguments obligatoires manquants : \1"),
    (r"^unrecognized arguments: (.*)$", r"arguments non reconnus : \1"),
    (
        r"^argument (\S+): invalid int value: (.*)$",
        r"argument \1 : nombre entier attendu (lu : \2)",
    ),
    (
        r"^argument (\S+): invalid choice: (.*?) \(choose from (.*)\)$",
        r"argument \1 : choix \2 invalide (choix possibles : \3)",
    ),
    (r"^argument (\S+): expected one argument$", r"argument \1 : une valeur est attendue"),
    (
        r"^argument (\S+): expected at least one argument$",
        r"argument \1 : au moins une valeur est attendue",
    ),
    (r"^argument (\S+): not allowed with argument (.*)$", r"argument \1 : incompatible avec \2"),
    (r"^ambiguous option: (.*)$", r"option ambiguë : \1"),
]


class _FrenchFormatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "utilisation : " if prefix is None else prefix)


class FrenchParser(argparse.ArgumentParser):
    """argparse speaking French: titles, usage line and its own error messages."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _FrenchFormatter)
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument("-h", "--help", action="help", help="afficher cette aide et quitter")

    def error(self, message: str):
        for pattern, replacement in _ARGPARSE_FR:
            message = re.sub(pattern, replacement, message)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog} : erreur : {message}\n")


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


def _print_warnings(dataset_warnings, stream=sys.stderr) -> None:
    from avs_eval.errors import listing  # the first 50, then a count per rule (as `valider`)

    if not dataset_warnings:
        return
    count = len(dataset_warnings)
    print(f"{count} avertissement{'s' if count > 1 else ''} (données acceptées) :", file=stream)
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
            count = len(invalid.warnings)
            print(f"{count} avertissement{'s' if count > 1 else ''} :", file=sys.stderr)
            print("\n".join(listing(invalid.warnings, "avertissement")), file=sys.stderr)
        if target:  # every error: what the evaluator works through
            write(invalid.errors)
            print(f"toutes les erreurs sont écrites dans {args.erreurs}", file=sys.stderr)
        return EXIT_INVALID
    print(dataset.summary())
    if dataset.warnings:
        count = len(dataset.warnings)
        print(f"{count} avertissement{'s' if count > 1 else ''} (données acceptées) :")
        print("\n".join(listing(dataset.warnings, "avertissement")))
    if target:
        write(dataset.warnings)
        print(f"aucune erreur ; les avertissements sont écrits dans {args.erreurs}")
    return 0


def cmd_evolutions(args) -> int:
    from avs_eval import evolutions

    dataset = _load(args)
    _print_warnings(dataset.warnings)
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
        f"{len(created)} fichier(s) de commentaire créé(s), {len(kept)} déjà présent(s) et "
        f"laissé(s) tels quels, dans {folder}/"
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
    _print_warnings(dataset.warnings)
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
        _print_warnings(invalid.warnings)
        if hint:
            print(hint, file=sys.stderr)
        return EXIT_INVALID
    _print_warnings(result.warnings)
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


# --- the commands and their options, as a table --------------------------------------------


@dataclass(frozen=True)
class Option:
    """One option of a command, as `argparse.add_argument` takes it (None: not given)."""

    flag: str
    help: str
    metavar: str | None = None
    type: Callable[[str], object] | None = None
    default: object = None
    action: str | None = None
    nargs: str | None = None
    choices: tuple[str, ...] | None = None
    required: bool | None = None

    def add_to(self, parser) -> None:
        given = {k: v for k, v in vars(self).items() if v is not None and k != "flag"}
        parser.add_argument(self.flag, **given)


@dataclass(frozen=True)
class Group:
    """Options shown together under a title in the command's help."""

    title: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    description: str
    run: Callable[[argparse.Namespace], int]
    options: tuple[Option | Group, ...]
    epilog: str | None = None


DATA = Group(
    "données (par défaut : l'échantillon fictif intégré, data/exemple/)",
    (
        Option("--structures", "registre des structures (CSV ou XLSX)", "FICHIER"),
        Option("--reponses", "réponses à l'enquête (CSV ou XLSX)", "FICHIER"),
        Option(
            "--classeur",
            "classeur XLSX contenant les feuilles « structures » et « reponses »",
            "FICHIER",
        ),
    ),
)
MIN_EFFECTIF = Option(
    "--min-effectif",
    "seuil du secret statistique (par défaut : celui de parameters/config.yaml)",
    "N",
    int,
)
FORMAT = Option(
    "--format",
    "forme du CSV : machine (UTF-8, séparateur « , », point décimal, True/False : pour les "
    "programmes) ou excel (celle des tables publiées, qui s'ouvre dans Excel en français : "
    "séparateur « ; », virgule décimale, libellés, oui/non) ; défaut : %(default)s",
    choices=("machine", "excel"),
    default="machine",
)
MODELE_WORD = Option(
    "--modele-word",
    "modèle Word de l'institution (.docx : styles, en-tête, pied de page, logo) pour les "
    "fichiers de --docx (par défaut : modele_word de parameters/config.yaml, sinon le "
    "modèle sobre fourni)",
    "FICHIER",
)
TERRITORY = Option(
    "--territoire",
    "un territoire : ses lignes, celles de sa collectivité et de l'ensemble",
    "TERRITOIRE",
)

COMMANDS = (
    Command(
        "valider",
        "vérifier les fichiers de données",
        "Vérifie les fichiers de données et affiche un résumé, ou les erreurs : les "
        "50 premières en entier, puis le nombre d'erreurs par règle. --erreurs écrit "
        "toutes les erreurs (ou, s'il n'y en a aucune, tous les avertissements) dans "
        "un fichier CSV.",
        cmd_valider,
        (
            Option(
                "--erreurs",
                "écrire toutes les erreurs, une ligne chacune (fichier, ligne, colonne, valeur, "
                "message), dans ce fichier CSV (UTF-8, séparateur « ; », lisible par Excel) ; "
                "sans erreur, il reçoit les avertissements",
                "FICHIER",
            ),
            DATA,
        ),
    ),
    Command(
        "indicateurs",
        "calculer la table des indicateurs (CSV ou Excel)",
        "Calcule les indicateurs par territoire, collectivité et pour l'ensemble, avec "
        "leur intervalle de confiance à 95 % (Wilson) et le drapeau de secret statistique.",
        cmd_indicateurs,
        (
            Option("--annee", "une année (par défaut : toutes les années)", "ANNEE", int),
            TERRITORY,
            MIN_EFFECTIF,
            Option(
                "--sortie",
                "fichier à écrire : CSV, ou classeur Excel mis en forme s'il finit par .xlsx "
                "(par défaut : CSV sur la sortie standard)",
                "FICHIER",
            ),
            FORMAT,
            DATA,
        ),
    ),
    Command(
        "commentaires",
        "créer les fichiers de commentaire de l'évaluateur (sans jamais en écraser)",
        "Crée, pour l'année, un fichier parameters/commentaires/<année>/<territoire>.md par "
        "territoire des données et synthese.md, à partir d'un modèle (les titres des "
        "sections du rapport). Un fichier existant n'est jamais modifié. Le texte écrit "
        "dans ces fichiers paraît dans la section « Analyse de l'évaluateur » des rapports.",
        cmd_commentaires,
        (
            Option(
                "--annee",
                "l'année des rapports (par défaut : la dernière année avec des réponses)",
                "ANNEE",
                int,
            ),
            Option(
                "--bilan",
                "créer plutôt parameters/commentaires/bilan.md, les conclusions et "
                "recommandations du bilan du schéma (avs-eval bilan)",
                action="store_true",
            ),
            DATA,
        ),
    ),
    Command(
        "suivi",
        "créer le fichier de suivi des actions d'une année (sans jamais en écraser)",
        "Crée parameters/suivi/<année>.yaml, le suivi des actions de la fiche pour l'année : "
        "une entrée par action ouverte cette année-là, avec l'état et les jalons non "
        "réalisés repris du fichier de l'année précédente, à mettre à jour. Un fichier "
        "existant n'est jamais modifié. Les rapports (section « Mise en œuvre des "
        "actions »), suivi_actions.csv et le bilan le lisent.",
        cmd_suivi,
        (
            Option(
                "--annee",
                "l'année à suivre (par défaut : l'année en cours, dans la période du schéma)",
                "ANNEE",
                int,
            ),
        ),
    ),
    Command(
        "evolutions",
        "évolutions depuis l'année de référence, testées sur les mêmes structures (CSV)",
        "Pour chaque périmètre et chaque indicateur oui/non : la part de l'année et celle de "
        "l'année de référence (par défaut, la première année où la question est posée), et "
        "l'évolution mesurée sur les structures ayant répondu les deux années, avec le test "
        "exact de McNemar. Table interne : les chiffres sous le secret y figurent avec "
        "secret=True.",
        cmd_evolutions,
        (
            Option(
                "--annee",
                "l'année comparée (par défaut : la dernière année avec des réponses)",
                "ANNEE",
                int,
            ),
            Option(
                "--reference",
                "l'année de référence, avant --annee (par défaut : la première année de chaque "
                "question)",
                "ANNEE",
                int,
            ),
            TERRITORY,
            MIN_EFFECTIF,
            Option("--sortie", "fichier CSV à écrire (par défaut : sortie standard)", "FICHIER"),
            FORMAT,
            DATA,
        ),
    ),
    Command(
        "modele",
        "écrire le modèle Excel de saisie des données",
        "Écrit un classeur Excel vide au format des données (feuilles « structures » et "
        "« reponses », listes déroulantes, feuille « listes » des codes, instructions). "
        "Rempli, il se lit tel quel avec --classeur.",
        cmd_modele,
        (Option("--sortie", "classeur .xlsx à écrire", "FICHIER", required=True),),
    ),
    Command(
        "questionnaire",
        "écrire le questionnaire (XLSForm ou document Markdown)",
        "Écrit le questionnaire de l'enquête : un formulaire XLSForm (KoboToolbox, ODK…) "
        "dont les questions portent les noms des colonnes du fichier de réponses, ou un "
        "document Markdown lisible.",
        cmd_questionnaire,
        (
            Option(
                "--format",
                "xlsform (classeur .xlsx) ou markdown (document .md)",
                choices=("xlsform", "markdown"),
                required=True,
            ),
            Option(
                "--structures",
                "registre des structures (CSV ou XLSX) : la structure se choisit alors dans une "
                "liste (par défaut : identifiant saisi)",
                "FICHIER",
            ),
            Option("--sortie", "fichier à écrire", "FICHIER", required=True),
        ),
    ),
    Command(
        "importer",
        "convertir l'export d'un outil d'enquête en fichier de réponses",
        "Convertit l'export d'un outil d'enquête en fichier de réponses du contrat, vérifié "
        "comme toute donnée. --source kobo : export KoboToolbox ou ODK (XLSX ou CSV) du "
        "formulaire écrit par « avs-eval questionnaire --format xlsform », en « valeurs et "
        "en-têtes XML ». --source correspondance : tout autre export (Google Forms, "
        "LimeSurvey, tableur), avec un fichier YAML de correspondance des en-têtes et des "
        "libellés (celui de Google Forms : parameters/correspondances/google_forms.yaml). "
        "Si une structure a répondu plusieurs fois pour une année, la soumission la plus "
        "récente est gardée et les autres sont signalées. Rien n'est écrit en cas d'erreur.",
        cmd_importer,
        (
            Option("--source", "type d'export", choices=("kobo", "correspondance"), required=True),
            Option("--fichier", "export à convertir (CSV ou XLSX)", "FICHIER", required=True),
            Option(
                "--correspondance",
                "fichier YAML de correspondance (obligatoire avec --source correspondance)",
                "FICHIER",
            ),
            Option("--sortie", "fichier de réponses .csv à écrire", "FICHIER", required=True),
            Option(
                "--structures",
                "registre des structures (CSV ou XLSX) contre lequel vérifier les identifiants ; "
                "une structure choisie par son libellé « nom — commune » y est retrouvée (par "
                "défaut : le registre de l'échantillon fictif)",
                "FICHIER",
            ),
        ),
    ),
    Command(
        "rapports",
        "produire les rapports HTML d'une année (un par territoire, plus la synthèse)",
        "Exécute le notebook de rapport pour chaque territoire et la synthèse, puis écrit "
        "SORTIE/ANNEE/<territoire>/rapport.html, indicateurs.csv, synthese.html, index.html "
        "et manifest.json. Seuls les rapports dont quelque chose a changé depuis le lot "
        "précédent sont refaits (données, notebooks, code, parameters/, options, ou leur "
        "commentaire) ; les autres sont repris tels quels, et manifest.json dit lesquels "
        "et pourquoi. Avec --territoire, ces territoires et la synthèse sont refaits et "
        "les autres rapports de l'année gardés. Les rapports précédents ne sont remplacés "
        "qu'à la fin, d'un bloc ; un lot interrompu (panne, arrêt forcé) est réparé par le "
        "lot suivant. Le journal du lot est écrit dans SORTIE/journaux/.",
        cmd_rapports,
        (
            Option("--annee", "par défaut : la dernière année avec réponses", "ANNEE", int),
            Option(
                "--territoire",
                "refaire ces territoires (et la synthèse) seulement ; les autres rapports de "
                "l'année sont gardés tels quels (par défaut : tous les territoires)",
                "TERRITOIRE",
                nargs="+",
            ),
            Option(
                "--tout",
                "tout refaire, même les rapports dont rien n'a changé depuis le lot précédent",
                action="store_true",
            ),
            Option(
                "--jobs",
                "notebooks exécutés en parallèle (défaut : le nombre de cœurs, au plus le nombre "
                "de rapports à produire)",
                "N",
                int,
            ),
            Option(
                "--sortie",
                "dossier de sortie (défaut : %(default)s)",
                "DOSSIER",
                default=default_of(BatchOptions, "sortie"),
            ),
            MIN_EFFECTIF,
            Option("--verbatims", "reproduire les réponses en texte libre", action="store_true"),
            Group(
                "cartes",
                (
                    Option(
                        "--fond-de-carte",
                        "communes (GeoJSON, GeoPackage ou Shapefile) ; par défaut celles du "
                        "Rhône fournies (data/fond_de_carte/communes-69.geojson)",
                        "FICHIER",
                    ),
                    Option(
                        "--champ-insee",
                        "propriété du fond de carte qui porte le code INSEE (défaut : %(default)s)",
                        "CHAMP",
                        default=default_of(ReportOptions, "champ_insee"),
                    ),
                    Option(
                        "--communes-territoires",
                        "table code_insee,territoire (CSV ou XLSX) pour dessiner des territoires "
                        "entiers ; sans elle, un territoire est l'ensemble des communes de ses "
                        "structures",
                        "FICHIER",
                    ),
                ),
            ),
            Group(
                "PDF et Word",
                (
                    Option(
                        "--pdf",
                        "imprimer aussi chaque rapport en PDF (rapport.pdf, synthese.pdf, et "
                        "leurs copies à envoyer dans envoi/), avec Chromium, Google Chrome ou "
                        "Microsoft Edge ; sans navigateur, les rapports HTML sont publiés et le "
                        "code de sortie est 3",
                        action="store_true",
                    ),
                    Option(
                        "--navigateur",
                        "navigateur qui imprime les PDF (par défaut : Chromium, Google Chrome ou "
                        "Microsoft Edge, cherché aux emplacements habituels)",
                        "CHEMIN",
                    ),
                    Option(
                        "--docx",
                        "écrire aussi chaque rapport en Word, à compléter et à mettre au modèle "
                        "de l'institution (rapport.docx, synthese.docx, et leurs copies à "
                        "envoyer dans envoi/) ; se combine avec --pdf",
                        action="store_true",
                    ),
                    MODELE_WORD,
                ),
            ),
            Option(
                "--interne",
                "édition interne, à ne pas diffuser (structures sans réponse nommées, "
                "provenance, qualité des données, tables complètes), écrite dans "
                "SORTIE/ANNEE-interne/ et jamais dans SORTIE/ANNEE/",
                action="store_true",
            ),
            Option(
                "--noyau-neuf",
                "un noyau Python neuf par notebook (plus lent ; par défaut, noyaux réutilisés)",
                action="store_true",
            ),
            Option(
                "--delai",
                "durée maximale d'un notebook avant arrêt (défaut : %(default)s)",
                "SECONDES",
                int,
                default=default_of(BatchOptions, "delai"),
            ),
            Option(
                "--modele",
                "notebook de rapport de territoire à utiliser à la place de "
                "notebooks/rapport_territoire.ipynb (version adaptée par l'évaluateur)",
                "NOTEBOOK",
            ),
            Option(
                "--journal",
                "journal du lot (défaut : SORTIE/journaux/ANNEE-DATE-HEURE.txt, hors des "
                "rapports publiés)",
                "FICHIER",
            ),
            DATA,
        ),
        epilog=EXIT_CODES_HELP,
    ),
    Command(
        "bilan",
        "produire le bilan du schéma sur plusieurs années (HTML, PDF, tables)",
        "Exécute le notebook notebooks/bilan.ipynb sur la période et publie "
        "SORTIE/bilan-DEBUT-FIN/ : bilan.html, bilan.ipynb, bilan.pdf (avec --pdf), "
        "trajectoires.csv, evolutions.csv, suivi_actions.csv, bilan.xlsx, index.html et "
        "manifest.json. Le titre dit « Bilan intermédiaire » tant que FIN précède la dernière "
        "année du schéma. Comme pour une année, le dossier n'est remplacé qu'à la fin, d'un "
        "bloc ; le bilan n'est refait que si quelque chose dont il dépend a changé (données, "
        "notebook, code, parameters/ dont le suivi des actions, options, ou "
        "parameters/commentaires/bilan.md). Le journal est écrit dans SORTIE/journaux/.",
        cmd_bilan,
        (
            Option(
                "--debut",
                "première année du bilan (par défaut : le début de la période de "
                "parameters/config.yaml, ou la première année avec des réponses)",
                "ANNEE",
                int,
            ),
            Option(
                "--fin",
                "dernière année du bilan (par défaut : la fin de la période de "
                "parameters/config.yaml, ou la dernière année avec des réponses)",
                "ANNEE",
                int,
            ),
            Option(
                "--sortie",
                "dossier de sortie (défaut : %(default)s)",
                "DOSSIER",
                default=default_of(BatchOptions, "sortie"),
            ),
            MIN_EFFECTIF,
            Option(
                "--interne",
                "édition interne, à ne pas diffuser (tables complètes, provenance), écrite dans "
                "SORTIE/bilan-DEBUT-FIN-interne/ et jamais dans SORTIE/bilan-DEBUT-FIN/",
                action="store_true",
            ),
            Option(
                "--tout",
                "refaire le bilan même si rien de ce dont il dépend n'a changé",
                action="store_true",
            ),
            Group(
                "PDF",
                (
                    Option(
                        "--pdf",
                        "imprimer aussi le bilan en PDF (bilan.pdf) avec Chromium, Google "
                        "Chrome ou Microsoft Edge ; sans navigateur, le bilan HTML est publié "
                        "et le code de sortie est 3",
                        action="store_true",
                    ),
                    Option(
                        "--navigateur",
                        "navigateur qui imprime le PDF (par défaut : Chromium, Google Chrome ou "
                        "Microsoft Edge, cherché aux emplacements habituels)",
                        "CHEMIN",
                    ),
                    Option(
                        "--docx",
                        "écrire aussi le bilan en Word (bilan.docx), à compléter et à mettre au "
                        "modèle de l'institution ; se combine avec --pdf",
                        action="store_true",
                    ),
                    MODELE_WORD,
                ),
            ),
            Option(
                "--delai",
                "durée maximale du notebook avant arrêt (défaut : %(default)s)",
                "SECONDES",
                int,
                default=default_of(BatchOptions, "delai"),
            ),
            Option(
                "--journal",
                "journal (défaut : SORTIE/journaux/bilan-DEBUT-FIN-DATE-HEURE.txt)",
                "FICHIER",
            ),
            DATA,
        ),
        epilog=EXIT_CODES_HELP,
    ),
    Command(
        "lab",
        "ouvrir JupyterLab sur les notebooks de l'évaluation",
        "Ouvre JupyterLab, en français, sur le dossier notebooks/ du projet et sa page "
        "d'accueil (LISEZMOI.md, qui dit quel notebook fait quoi), comme « make lab ». "
        "La configuration de Jupyter reste dans le projet (.jupyter/), rien n'est écrit "
        "dans votre dossier personnel. Arrêt : Ctrl-C dans ce terminal.",
        cmd_lab,
        (
            Option(
                "options_jupyterlab",
                "options transmises à JupyterLab, après « -- » (ex. : avs-eval lab -- "
                "--port=8890 --no-browser)",
                "OPTION",
                nargs="*",
            ),
        ),
    ),
)


def build_parser() -> FrenchParser:
    """The `avs-eval` parser, built from the table of commands above."""
    parser = FrenchParser(
        prog="avs-eval",
        description=(
            "Évaluation de la fiche action PA 3.1.2 du schéma de l'animation de la vie sociale "
            "(Caf du Rhône, Métropole de Lyon, Département du Rhône)."
        ),
        epilog="Aide d'une commande : avs-eval COMMANDE --help\n\n" + EXIT_CODES_HELP,
    )
    parser.add_argument(
        "--version", action="version", version=f"avs-eval {__version__}", help="afficher la version"
    )
    commands = parser.add_subparsers(
        title="commandes", dest="commande", metavar="COMMANDE", parser_class=FrenchParser
    )
    for command in COMMANDS:
        sub = commands.add_parser(
            command.name,
            help=command.help,
            description=command.description,
            epilog=command.epilog,
        )
        for entry in command.options:
            if isinstance(entry, Group):
                group = sub.add_argument_group(entry.title)
                for option in entry.options:
                    option.add_to(group)
            else:
                entry.add_to(sub)
        sub.set_defaults(func=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.func(args)
    except ValidationError as invalid:
        print(invalid.report(), file=sys.stderr)
        _print_warnings(invalid.warnings)
        return EXIT_INVALID
    except AvsEvalError as error:
        print(f"avs-eval : erreur : {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("\navs-eval : interrompu.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
