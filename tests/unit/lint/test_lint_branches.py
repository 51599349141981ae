"""Which revisions are on an expand/contract chain's contract branch (lint/branches.py)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.alembic_projects import Revision

from migproof.chain.graph import RevisionGraph, read_revision_file
from migproof.lint.branches import contract_files


def _write(
    directory: Path, rev: Revision, labels: tuple[str, ...] = (), depends_on: str | None = None
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    source = rev.source().replace("branch_labels = None", f"branch_labels = {labels!r}")
    source = source.replace("depends_on = None", f"depends_on = {depends_on!r}")
    path = directory / f"{rev.id}.py"
    path.write_text(source)
    return path


def test_a_contract_label_is_inherited_by_the_revisions_built_on_it(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    files = [
        _write(versions, Revision(id="base", down=None, upgrade="pass")),
        _write(versions, Revision(id="ex1", down="base", upgrade="pass"), ("expand",)),
        _write(versions, Revision(id="ex2", down="ex1", upgrade="pass")),
        _write(versions, Revision(id="co1", down="base", upgrade="pass"), ("contract",)),
        _write(versions, Revision(id="co2", down="co1", upgrade="pass")),
        # depends_on the contract branch does not put an expand revision on it
        _write(versions, Revision(id="ex3", down="ex2", upgrade="pass"), depends_on="co2"),
    ]
    graph = RevisionGraph([read_revision_file(p) for p in files])
    assert {p.name for p in contract_files(graph)} == {"co1.py", "co2.py"}


def test_a_contract_directory_puts_its_revisions_on_the_branch(tmp_path: Path) -> None:
    # neutron: versions/<release>/{expand,contract}/, labels only at the first release
    files = [
        _write(tmp_path / "versions", Revision(id="kilo", down=None, upgrade="pass")),
        _write(tmp_path / "versions/2024.1/expand", Revision(id="e1", down="kilo", upgrade="pass")),
        _write(
            tmp_path / "versions/2024.1/contract", Revision(id="c1", down="kilo", upgrade="pass")
        ),
    ]
    graph = RevisionGraph([read_revision_file(p) for p in files])
    assert {p.name for p in contract_files(graph)} == {"c1.py"}


def test_a_chain_without_branches_has_no_contract_revisions(tmp_path: Path) -> None:
    files = [
        _write(tmp_path, Revision(id="r1", down=None, upgrade="pass")),
        _write(tmp_path, Revision(id="r2", down="r1", upgrade="pass"), ("contractual",)),
    ]
    assert contract_files(RevisionGraph([read_revision_file(p) for p in files])) == set()
