"""Checks on the revision graph and files, without a database."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from migproof.chain.graph import VERSION_NUM_LENGTH, DowngradeKind, RevisionFile, RevisionGraph
from migproof.chain.project import AlembicProject
from migproof.config import Config
from migproof.errors import ConfigError
from migproof.findings import Finding, Location, Severity
from migproof.verify._register import verify_check

__all__ = [
    "below_minimum",
    "check_graph",
    "declared_by_pattern",
    "irreversible_patterns",
    "irreversible_revisions",
    "never_downgraded",
]

BROKEN = verify_check(
    "MP001",
    "revision-file-broken",
    "a revision file fails to parse or import",
    what="Imports every revision file as Alembic does and reports the ones that fail, with the "
    "file, the line and Python's error.",
    why="Alembic imports every revision file before it runs any: one broken file stops every "
    "`alembic upgrade`, including the deploy's.",
    fix="Correct the syntax or the import the message names; run `python -c 'import ast, sys; "
    "ast.parse(open(sys.argv[1]).read())' FILE` to confirm.",
)
HEADS = verify_check(
    "MP002",
    "multiple-heads",
    "the chain has more than one head",
    what="Counts the revisions no other revision builds on.",
    why="With two heads, `alembic upgrade head` refuses to run; it usually means two branches "
    "each added a revision on the same parent and were merged without a merge revision.",
    fix="Create a merge revision (`alembic merge heads -m merge`), or list the intended heads "
    "in `[tool.migproof.verify] heads` (`[verify]` in migproof.toml). Branches that are "
    "meant to stay apart (each from its own base, with a branch label) are said as such, and "
    'declared by label: `heads = ["core@head", "plugins@head"]`.',
)
DANGLING = verify_check(
    "MP003",
    "missing-down-revision",
    "a down_revision or depends_on names no revision",
    what="Checks that every `down_revision` and `depends_on` names a revision in the chain.",
    why="Alembic cannot build its revision map, so no command works.",
    fix="Correct the id, or restore the revision file that was deleted or renamed.",
)
CYCLE = verify_check(
    "MP004",
    "revision-cycle",
    "revisions form a cycle",
    what="Looks for revisions that are, through their down revisions, their own ancestors.",
    why="A cycle has no base-to-head order: Alembic cannot upgrade through it.",
    fix="Correct the `down_revision` of the revision that closes the cycle.",
)
TOO_LONG = verify_check(
    "MP005",
    "revision-id-too-long",
    "a revision id does not fit alembic_version.version_num",
    what=f"Checks that every revision id has at most {VERSION_NUM_LENGTH} characters.",
    why="`alembic_version.version_num` is `varchar(32)`: stamping a longer id fails on "
    "PostgreSQL after the migration's DDL ran, in the middle of a deploy.",
    fix="Shorten the revision id (and every `down_revision` that names it) before it is applied "
    "anywhere.",
)
NO_DOWNGRADE = verify_check(
    "MP006",
    "downgrade-missing",
    "upgrade() does something but downgrade() is missing or empty",
    what="Flags revisions whose `downgrade()` is missing or only `pass` while `upgrade()` does "
    "something, unless the revision is declared irreversible.",
    why="The rollback you count on during an incident silently does nothing: the schema stays "
    "at the new revision while alembic_version says it went back.",
    fix="Write the downgrade, or raise `NotImplementedError` in it, or list the revision in "
    "`[tool.migproof.verify] irreversible`.",
)
DUPLICATE = verify_check(
    "MP007",
    "duplicate-revision-id",
    "two revision files share one revision id",
    what="Checks that revision ids are unique across the version locations.",
    why="Alembic keeps one of the two files: the other's migration never runs.",
    fix="Give one of the files a new id (`alembic revision` makes one) and chain it properly.",
)
IRREVERSIBLE = verify_check(
    "MP008",
    "irreversible-revision",
    "a revision is declared irreversible: its round trip is skipped",
    what="Reports revisions whose `downgrade()` raises an exception before doing anything "
    '(`NotImplementedError`, or zuul\'s `Exception("Downgrades not supported")`), or that '
    "are listed in `[tool.migproof.verify] irreversible`.",
    why="Not a defect: a note that this revision's downgrade is not checked and cannot be used.",
    fix="Nothing to fix; make sure the team knows a rollback past this revision needs a restore.",
    severity=Severity.INFO,
)


def irreversible_revisions(project: AlembicProject, config: Config) -> set[str]:
    """The revisions whose round trip is skipped: declared irreversible (the config list, a
    downgrade() that can only raise), and those not above the minimum."""
    declared = set(config.verify.irreversible)
    return below_minimum(project, config) | {
        rev.revision
        for rev in project.graph.by_id.values()
        if rev.revision
        and (rev.downgrade is DowngradeKind.IRREVERSIBLE or _declared(rev, declared))
    }


def below_minimum(project: AlembicProject, config: Config) -> set[str]:
    """``verify.minimum-downgrade-revision`` and every revision it builds on; a ConfigError
    when no revision (or several) has that id or id prefix."""
    minimum = config.verify.minimum_downgrade_revision
    if not minimum:
        return set()
    graph = project.graph
    found = [rid for rid in graph.by_id if rid == minimum] or [
        rid for rid in graph.by_id if rid.startswith(minimum)
    ]
    if len(found) != 1:
        what = (
            f"{len(found)} revisions start with it ({', '.join(sorted(found)[:3])}, ...)"
            if found
            else "no revision of the chain has that id"
        )
        raise ConfigError(
            f"minimum-downgrade-revision {minimum!r}: {what}",
            fix="give the id (or a unique prefix) of a revision in the chain",
        )
    return {found[0], *graph.ancestors(found[0])}


def _declared(rev: RevisionFile, declared: set[str]) -> bool:
    """Whether ``irreversible`` names the revision: by id, id prefix or glob pattern."""
    rid = rev.revision
    if not rid:
        return False
    return any(
        fnmatch.fnmatchcase(rid, d) if _is_pattern(d) else rid.startswith(d) for d in declared if d
    )


def _is_pattern(declared: str) -> bool:
    return any(char in declared for char in "*?[")


def never_downgraded(project: AlembicProject, config: Config) -> set[str]:
    """The revisions a walk upgrades and never downgrades: the irreversible ones, those
    with no ``downgrade()`` at all, which Alembic cannot downgrade through (MP006 says so;
    the walk does not meet Alembic's AttributeError for it), and all of an upgrade-only
    chain (its few empty ones too)."""
    missing = {
        rev.revision
        for rev in project.graph.by_id.values()
        if rev.revision and rev.downgrade is DowngradeKind.MISSING
    }
    return irreversible_revisions(project, config) | missing | upgrade_only(project, config)


def irreversible_patterns(config: Config) -> list[str]:
    """The glob patterns among ``verify.irreversible`` (``"*"``: an upgrade-only chain)."""
    return [d for d in config.verify.irreversible if _is_pattern(d)]


def declared_by_pattern(project: AlembicProject, config: Config) -> set[str]:
    """The revisions ``irreversible`` reaches through a glob pattern (``"*"``: an
    upgrade-only chain, as OpenStack's are): said once, in a "not checked" entry, rather
    than with one MP008 each."""
    patterns = set(irreversible_patterns(config))
    if not patterns:
        return set()
    return {
        rev.revision
        for rev in project.graph.by_id.values()
        if rev.revision and _declared(rev, patterns)
    }


def upgrade_only(project: AlembicProject, config: Config) -> set[str]:
    """Every revision, when no ``downgrade()`` can run: each one can only raise (zuul's 38
    raise ``Exception("Downgrades not supported")``) or there is none (ironic's 81, the
    OpenStack policy): an upgrade-only chain by policy, said once in a "not checked" entry
    rather than with one MP008 or MP006 each. Else the empty set.

    A few empty ones (``pass``) among them follow the same policy (octavia: 94 without one,
    one ``pass``); a chain whose downgrades are mostly empty gets its MP006s, since an
    empty downgrade is as often a forgotten one."""
    skipped = below_minimum(project, config) | declared_by_pattern(project, config)
    rest = [rev for rid, rev in project.graph.by_id.items() if rid not in skipped]
    none_runs = (DowngradeKind.IRREVERSIBLE, DowngradeKind.MISSING)
    empty = sum(1 for rev in rest if rev.downgrade is DowngradeKind.EMPTY)
    if len(rest) < 2 or empty * 2 >= len(rest):
        return set()
    if any(rev.downgrade not in (*none_runs, DowngradeKind.EMPTY) for rev in rest):
        return set()
    return {rev.revision for rev in rest if rev.revision}


def _at(rev: RevisionFile, line: int | None = None) -> Location:
    return Location(path=rev.path, line=line)


def check_graph(project: AlembicProject, config: Config) -> Iterator[Finding]:
    """Every finding about the graph and the files, in a stable order."""
    graph = project.graph
    for rev in graph.files:
        if rev.syntax_error is not None:
            message, line, column = rev.syntax_error
            yield Finding(
                check=BROKEN.code,
                severity=BROKEN.severity,
                revision=rev.revision,
                message=f"revision file {rev.path.name} does not parse: {message}",
                fix="correct the syntax: while this file is broken, Alembic loads no revision",
                location=Location(path=rev.path, line=line, column=column),
            )
        elif rev.revision is None:
            yield Finding(
                check=BROKEN.code,
                severity=BROKEN.severity,
                message=f'{rev.path.name} has no `revision = "…"` at module level',
                fix="declare the revision id (and down_revision) at the top of the file",
                location=_at(rev, 1),
            )
    from migproof.verify.hints import import_fix  # it loads the catalog model: only here

    for broken in project.broken.values():
        owner = next((f for f in graph.files if f.path.resolve() == broken.path), None)
        if owner is not None and owner.syntax_error is not None:
            continue  # reported above, with its line and column
        yield Finding(
            check=BROKEN.code,
            severity=BROKEN.severity,
            revision=owner.revision if owner else None,
            message=f"revision file {broken.path.name} fails to import: {broken.error}",
            fix=import_fix(broken.error) or "correct the import or the code the error names",
            location=Location(path=owner.path if owner else broken.path, line=broken.line),
        )
    for rid, revs in sorted(graph.duplicates.items()):
        names = ", ".join(r.path.name for r in revs)
        for rev in revs[1:]:
            yield Finding(
                check=DUPLICATE.code,
                severity=DUPLICATE.severity,
                revision=rid,
                message=f"revision id {rid} is declared by {names}",
                location=_at(rev, 1),
                fix="give one of them a new revision id",
            )
    for rev, missing in graph.dangling():
        yield Finding(
            check=DANGLING.code,
            severity=DANGLING.severity,
            revision=rev.revision,
            message=f"revision {rev.revision} names {missing!r} as its down revision, "
            "but no revision has that id",
            fix="correct the down_revision, or restore the missing revision file",
            location=_at(rev, 1),
        )
    for cycle in graph.cycles():
        first = graph.by_id[cycle[0]]
        yield Finding(
            check=CYCLE.code,
            severity=CYCLE.severity,
            revision=cycle[0],
            message="revisions form a cycle: " + " -> ".join(cycle),
            location=_at(first, 1),
            fix="correct the down_revision that closes the cycle",
        )
    yield from _check_heads(project, config)
    yield from _check_revisions(project, config)


def _check_heads(project: AlembicProject, config: Config) -> Iterator[Finding]:
    graph = project.graph
    heads = graph.heads()
    declared = config.verify.heads
    unmatched: list[str] = []
    unexpected: list[RevisionFile] = []
    if "heads" in declared:  # Alembic's word for every head: as many as there are
        return
    if declared:
        labels = {h.revision: _branch_labels(graph, h) for h in heads}
        unexpected = [
            h for h in heads if not any(_matches_head(h, labels[h.revision], d) for d in declared)
        ]
        unmatched = [
            d for d in declared if not any(_matches_head(h, labels[h.revision], d) for h in heads)
        ]
        if len(heads) == len(declared) and not unexpected:
            return
    elif len(heads) <= 1:
        return
    names = ", ".join(f"{h.revision} ({h.path.name})" for h in heads)
    matched_nothing = f"; declared {', '.join(unmatched)}: no such head" if unmatched else ""
    if unexpected:
        matched_nothing += f"; not declared: {', '.join(h.revision or '' for h in unexpected)}"
    message = f"the chain has {len(heads)} heads: {names}{matched_nothing}"
    fix = (
        "merge them with `alembic merge heads -m merge`, or declare the intended heads "
        f"({config.setting('verify.heads')})"
    )
    labelled = _head_labels(graph, heads) if not declared else None
    separate = _separate_branches(graph, heads) if labelled else None
    if labelled and separate is None:  # a fork, unless the labels say otherwise
        wanted = ", ".join(f'"{label}@head"' for label in labelled)
        fix = (
            "merge them with `alembic merge heads -m merge`; if the labelled branches are meant "
            f"to stay apart (expand/contract), declare them, heads = [{wanted}] "
            f"({config.setting('verify.heads')})"
        )
    if separate is not None:  # galaxy: branches meant to stay apart, not a fork to merge
        message = (
            f"the chain has {len(heads)} separate labelled branches, each with its own base "
            f"and head: {names}"
        )
        wanted = ", ".join(f'"{label}@head"' for label in separate)
        fix = f"declare them, heads = [{wanted}] ({config.setting('verify.heads')})"
    yield Finding(
        check=HEADS.code,
        severity=HEADS.severity,
        revision=heads[-1].revision if heads else None,
        message=message,
        fix=fix,
        location=_at(heads[-1], 1) if heads else None,
    )


def _head_labels(graph: RevisionGraph, heads: list[RevisionFile]) -> list[str] | None:
    """A branch label for each head, different for each (one only its own branch carries);
    None when a head has none."""
    labels = [_branch_labels(graph, head) for head in heads]
    chosen = []
    for index, own in enumerate(labels):
        others = set().union(*(other for i, other in enumerate(labels) if i != index))
        distinct = sorted(own - others)
        if not distinct:
            return None
        chosen.append(distinct[0])
    return chosen


def _separate_branches(graph: RevisionGraph, heads: list[RevisionFile]) -> list[str] | None:
    """One branch label per head when the heads share no revision and each carries a label
    of its own (Alembic's independent branches, each from its own base); else None."""
    lineages = [
        {h.revision, *graph.ancestors(h.revision, dependencies=False)} for h in heads if h.revision
    ]
    if len(lineages) != len(heads) or any(
        a & b for i, a in enumerate(lineages) for b in lineages[i + 1 :]
    ):
        return None
    return _head_labels(graph, heads)


def _branch_labels(graph: RevisionGraph, head: RevisionFile) -> set[str]:
    """The branch labels a head carries: its own and, as Alembic resolves ``label@head``,
    those of every revision it builds on (keystone labels the first of each branch)."""
    labels = set(head.branch_labels)
    for rid in graph.ancestors(head.revision, dependencies=False) if head.revision else ():
        labels.update(graph.by_id[rid].branch_labels)
    return labels


def _matches_head(head: RevisionFile, labels: set[str], declared: str) -> bool:
    name = declared.removesuffix("@head")
    return bool(head.revision and head.revision.startswith(name)) or name in labels


def _lacks_downgrade(rev: RevisionFile) -> bool:
    """MP006's test: no downgrade(), or an empty one after an upgrade that does work."""
    return (rev.downgrade is DowngradeKind.MISSING and rev.syntax_error is None) or (
        rev.downgrade is DowngradeKind.EMPTY and not rev.upgrade_is_empty
    )


# From this many revisions without a downgrade, MP006's fix names the chain-wide setting
_MANY_WITHOUT_DOWNGRADE = 5


def _no_downgrade_fix(project: AlembicProject, config: Config, declared: set[str]) -> str:
    """MP006's fix; where many revisions have an empty or no downgrade() (mlflow's 25 by
    policy), it says how to declare the whole chain upgrade-only too."""
    fix = (
        "write the downgrade, or raise NotImplementedError in it, or list the revision "
        f"({config.setting('verify.irreversible')})"
    )
    empty = sum(
        1
        for rev in project.graph.by_id.values()
        if rev.revision not in declared and _lacks_downgrade(rev)
    )
    if empty >= _MANY_WITHOUT_DOWNGRADE:
        fix += (
            f"; {empty} revisions have none: a chain without downgrades by policy says so once"
            ' with irreversible = ["*"] (each is then upgraded, and the chain upgraded from base'
            " in one run, never downgraded)"
        )
    return fix


def _check_revisions(project: AlembicProject, config: Config) -> Iterator[Finding]:
    # one "not checked" entry says so for each of these, not a finding each
    below = (
        below_minimum(project, config)
        | declared_by_pattern(project, config)
        | upgrade_only(project, config)
    )
    irreversible = irreversible_revisions(project, config) - below
    no_downgrade = _no_downgrade_fix(project, config, irreversible | below)
    for rev in project.graph.by_id.values():
        rid = rev.revision or ""
        if len(rid) > VERSION_NUM_LENGTH:
            yield Finding(
                check=TOO_LONG.code,
                severity=TOO_LONG.severity,
                revision=rid,
                message=f"revision id {rid!r} has {len(rid)} characters; "
                f"alembic_version.version_num holds {VERSION_NUM_LENGTH}",
                fix=f"shorten it to {VERSION_NUM_LENGTH} characters or fewer, here and in every "
                "down_revision that names it",
                location=_at(rev, 1),
            )
        if rid in irreversible:
            yield Finding(
                check=IRREVERSIBLE.code,
                severity=IRREVERSIBLE.severity,
                revision=rid,
                message=f"revision {rid} is irreversible: its round trip is not checked",
                location=_at(rev, rev.downgrade_line or rev.upgrade_line),
            )
        elif rid not in below and _lacks_downgrade(rev):
            what = (
                "has no downgrade()"
                if rev.downgrade is DowngradeKind.MISSING
                else "has an empty downgrade()"
            )
            changes = "changes the schema" if rev.upgrade_alters_schema else "runs statements"
            message = f"revision {rid} {changes} in upgrade() but {what}"
            if rev.upgrade_is_empty:  # `alembic downgrade` through it fails all the same
                message = f"revision {rid} has no downgrade(): Alembic cannot downgrade past it"
            yield Finding(
                check=NO_DOWNGRADE.code,
                severity=NO_DOWNGRADE.severity,
                revision=rid,
                message=message,
                fix=no_downgrade,
                location=_at(rev, rev.downgrade_line or rev.upgrade_line),
            )
