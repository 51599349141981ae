"""verify's graph checks, without a database: each fires on its defect and not on clean chains."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers.alembic_projects import Revision, line_of, write_project

from migproof.chain.graph import DowngradeKind, read_revision_file
from migproof.chain.project import load_project
from migproof.config import load_config
from migproof.errors import ConfigError
from migproof.verify.graph_checks import check_graph

TABLE = 'op.create_table("t{n}", sa.Column("id", sa.Integer, primary_key=True))'
DROP = 'op.drop_table("t{n}")'


def rev(n: int, down: object, **kw: object) -> Revision:
    return Revision(
        id=f"r{n}",
        down=down,  # type: ignore[arg-type]
        upgrade=kw.pop("upgrade", TABLE.format(n=n)),
        downgrade=kw.pop("downgrade", DROP.format(n=n)),
        **kw,  # type: ignore[arg-type]
    )


def findings(root: Path, **overrides: object) -> list[tuple[str, str | None, str, int | None]]:
    config = load_config(root, overrides=overrides)
    project = load_project(config, root)
    project.script_directory()
    return sorted(
        (
            f.check,
            f.revision,
            f.location.path.name if f.location else "",
            f.location.line if f.location else None,
        )
        for f in check_graph(project, config)
    )


def test_clean_linear_chain_has_no_findings(tmp_path: Path) -> None:
    write_project(tmp_path, [rev(1, None), rev(2, "r1"), rev(3, "r2")])
    assert findings(tmp_path) == []


def test_branches_with_a_merge_have_no_findings(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        [
            rev(1, None),
            rev(2, "r1"),
            rev(3, "r1"),
            Revision(id="r4", down=("r2", "r3"), upgrade="pass", downgrade="pass"),
        ],
    )
    assert findings(tmp_path) == []


def test_two_heads_fire_unless_declared(tmp_path: Path) -> None:
    write_project(tmp_path, [rev(1, None), rev(2, "r1"), rev(3, "r1")])
    assert findings(tmp_path) == [("MP002", "r3", "r3.py", 1)]
    assert findings(tmp_path, **{"verify.heads": ["r2", "r3"]}) == []


def test_declared_heads_match_the_branch_labels_of_their_ancestors(tmp_path: Path) -> None:
    """As Alembic resolves ``expand@head``: keystone labels the first revision of each
    branch, and the heads build on them."""
    write_project(tmp_path, [rev(1, None), rev(2, "r1"), rev(3, "r1"), rev(4, "r2"), rev(5, "r3")])
    for n, label in ((2, "expand"), (3, "contract")):
        path = tmp_path / "migrations" / "versions" / f"r{n}.py"
        path.write_text(
            path.read_text().replace("branch_labels = None", f"branch_labels = ({label!r},)")
        )
    assert findings(tmp_path, **{"verify.heads": ["expand@head", "contract@head"]}) == []
    config = load_config(tmp_path, overrides={"verify.heads": ["expand@head", "other@head"]})
    project = load_project(config, tmp_path)
    project.script_directory()
    (finding,) = check_graph(project, config)
    assert finding.check == "MP002"
    assert finding.message.endswith("; declared other@head: no such head; not declared: r5")
    # one of the two declared: the message names the head that is not
    config = load_config(tmp_path, overrides={"verify.heads": ["expand@head"]})
    project = load_project(config, tmp_path)
    project.script_directory()
    (finding,) = check_graph(project, config)
    assert finding.message.endswith("; not declared: r5")
    # Alembic's own word for all of them
    assert findings(tmp_path, **{"verify.heads": ["heads"]}) == []


def test_syntax_error_is_a_finding_on_that_file_and_line(tmp_path: Path) -> None:
    write_project(tmp_path, [rev(1, None), rev(2, "r1", upgrade="op.execute('SELECT 1'")])
    path = tmp_path / "migrations" / "versions" / "r2.py"
    assert findings(tmp_path) == [("MP001", "r2", "r2.py", line_of(path, "op.execute"))]


def test_import_error_is_a_finding_on_that_file(tmp_path: Path) -> None:
    write_project(tmp_path, [rev(1, None), rev(2, "r1", header="import no_such_module_anywhere")])
    path = tmp_path / "migrations" / "versions" / "r2.py"
    result = findings(tmp_path)
    assert result == [("MP001", "r2", "r2.py", line_of(path, "import no_such_module_anywhere"))]
    config = load_config(tmp_path)
    project = load_project(config, tmp_path)
    project.script_directory()
    (finding,) = check_graph(project, config)
    assert finding.fix is not None
    assert finding.fix.startswith(
        "the Python running migproof cannot import 'no_such_module_anywhere': install migproof "
        "in the project's virtualenv"
    )


def test_a_missing_part_of_an_installed_package_is_named_whole(tmp_path: Path) -> None:
    """mlrun: `No module named 'google.protobuf.pyext._message'` (a C extension protobuf 3
    has no build of for this Python) said "cannot import 'google'"."""
    write_project(tmp_path, [rev(1, None, header="import json._no_such_part")])
    config = load_config(tmp_path)
    project = load_project(config, tmp_path)
    project.script_directory()
    (finding,) = check_graph(project, config)
    assert finding.fix is not None
    assert finding.fix.startswith(
        "json is installed here but has no json._no_such_part: the installed version lacks it"
    )


def test_a_missing_module_behind_another_error_is_named(tmp_path: Path) -> None:
    """nova: oslo.service turns "No module named 'eventlet'" into "Unknown backend"."""
    hides = (
        "try:\n    import eventlet_not_here\nexcept ModuleNotFoundError:\n"
        "    raise ValueError(\"Unknown backend: 'eventlet'\")"
    )
    write_project(tmp_path, [rev(1, None, header=hides)])
    config = load_config(tmp_path)
    project = load_project(config, tmp_path)
    project.script_directory()
    (finding,) = check_graph(project, config)
    assert "ModuleNotFoundError: No module named 'eventlet_not_here'" in finding.message
    assert "ValueError: Unknown backend: 'eventlet'" in finding.message
    assert finding.fix is not None
    assert finding.fix.startswith("the Python running migproof cannot import 'eventlet_not_here'")
    # `raise … from None` hides the context on purpose: the project's own error stands
    write_project(
        tmp_path, [rev(1, None, header=hides.replace("'eventlet'\")", "'eventlet'\") from None"))]
    )
    project = load_project(config, tmp_path)
    project.script_directory()
    (finding,) = check_graph(project, config)
    assert "ModuleNotFoundError" not in finding.message
    assert "ValueError: Unknown backend: 'eventlet'" in finding.message


def test_another_import_error_gets_the_general_fix(tmp_path: Path) -> None:
    write_project(tmp_path, [rev(1, None), rev(2, "r1", header="raise ImportError('half-built')")])
    config = load_config(tmp_path)
    project = load_project(config, tmp_path)
    project.script_directory()
    (finding,) = check_graph(project, config)
    assert finding.fix == "correct the import or the code the error names"


def test_dangling_down_revision(tmp_path: Path) -> None:
    write_project(tmp_path, [rev(1, None), rev(2, "nope")])
    assert ("MP003", "r2", "r2.py", 1) in findings(tmp_path)


def test_cycle(tmp_path: Path) -> None:
    write_project(tmp_path, [rev(1, "r3"), rev(2, "r1"), rev(3, "r2")])
    assert [f[0] for f in findings(tmp_path) if f[0] == "MP004"] == ["MP004"]


def test_revision_id_longer_than_version_num(tmp_path: Path) -> None:
    long_id = "0002_add_billing_contact_to_accounts"
    write_project(
        tmp_path, [rev(1, None), Revision(id=long_id, down="r1", upgrade="pass", downgrade="pass")]
    )
    assert findings(tmp_path) == [("MP005", long_id, f"{long_id}.py", 1)]


def test_id_of_exactly_32_characters_is_fine(tmp_path: Path) -> None:
    write_project(
        tmp_path, [rev(1, None), Revision(id="x" * 32, down="r1", upgrade="pass", downgrade="pass")]
    )
    assert findings(tmp_path) == []


def test_empty_downgrade_of_a_schema_change(tmp_path: Path) -> None:
    write_project(tmp_path, [rev(1, None, downgrade="pass")])
    path = tmp_path / "migrations" / "versions" / "r1.py"
    assert findings(tmp_path) == [("MP006", "r1", "r1.py", line_of(path, "def downgrade"))]


def _without_downgrade(root: Path, rid: str) -> Path:
    path = root / "migrations" / "versions" / f"{rid}.py"
    text = path.read_text()
    path.write_text(text[: text.index("\n\ndef downgrade():")] + "\n")
    return path


def test_a_missing_downgrade_is_found_even_after_an_empty_upgrade(tmp_path: Path) -> None:
    """keystone's placeholder revisions: `def upgrade(): pass` and no downgrade() at all,
    which `alembic downgrade` through them fails on."""
    write_project(tmp_path, [rev(1, None), rev(2, "r1", upgrade="pass")])
    _without_downgrade(tmp_path, "r2")
    config = load_config(tmp_path)
    project = load_project(config, tmp_path)
    [finding] = check_graph(project, config)
    assert (finding.check, finding.revision) == ("MP006", "r2")
    assert finding.message == "revision r2 has no downgrade(): Alembic cannot downgrade past it"
    _without_downgrade(tmp_path, "r1")
    write_project(tmp_path, [rev(3, "r2")])  # one that can go down: not an upgrade-only chain
    project = load_project(config, tmp_path)
    messages = sorted(f.message for f in check_graph(project, config))
    assert messages[0] == "revision r1 changes the schema in upgrade() but has no downgrade()"


@pytest.mark.parametrize(
    ("upgrade", "says"),
    [
        ('op.add_column("t", sa.Column("c", sa.Text))', "changes the schema"),
        ('op.execute("ALTER TABLE t ADD COLUMN c text")', "changes the schema"),
        ('op.execute("DELETE FROM runs WHERE status IS NULL")', "runs statements"),
        (
            'op.bulk_insert(sa.table("plans", sa.column("name")), [{"name": "free"}])',
            "runs statements",
        ),
    ],
    ids=["schema-operation", "literal-ddl", "data-only", "bulk-insert"],
)
def test_an_empty_downgrade_says_what_the_upgrade_does(
    tmp_path: Path, upgrade: str, says: str
) -> None:
    write_project(tmp_path, [Revision(id="r1", down=None, upgrade=upgrade, downgrade="pass")])
    config = load_config(tmp_path)
    project = load_project(config, tmp_path)
    [finding] = check_graph(project, config)
    assert finding.check == "MP006"
    assert finding.message == f"revision r1 {says} in upgrade() but has an empty downgrade()"


@pytest.mark.parametrize(
    "upgrade",
    [
        "pass",
        '"""Nothing to do on PostgreSQL."""\nreturn',
        # CKAN's guard for databases its legacy engine made
        "if skip_based_on_legacy_engine_version(op, __name__):\n    return\npass",
    ],
    ids=["pass", "docstring-return", "guard"],
)
def test_empty_downgrade_of_an_empty_upgrade_is_fine(tmp_path: Path, upgrade: str) -> None:
    write_project(tmp_path, [rev(1, None, upgrade=upgrade, downgrade="pass")])
    assert findings(tmp_path) == []


def test_a_guard_before_real_work_is_not_an_empty_upgrade(tmp_path: Path) -> None:
    upgrade = "if op.get_bind().dialect.name != 'postgresql':\n    return\n" + TABLE.format(n=1)
    write_project(tmp_path, [rev(1, None, upgrade=upgrade, downgrade="pass")])
    assert [f[0] for f in findings(tmp_path)] == ["MP006"]


@pytest.mark.parametrize(
    "downgrade",
    [
        'raise NotImplementedError("one way")',
        '"""No way back."""\nraise Exception("Downgrades not supported")',  # zuul's
        "raise alembic.util.CommandError('irreversible')",
    ],
)
def test_a_downgrade_that_can_only_raise_is_reported_as_irreversible(
    tmp_path: Path, downgrade: str
) -> None:
    write_project(tmp_path, [rev(1, None, downgrade=downgrade)])
    path = tmp_path / "migrations" / "versions" / "r1.py"
    assert findings(tmp_path) == [("MP008", "r1", "r1.py", line_of(path, "def downgrade"))]


def test_a_chain_whose_every_downgrade_raises_is_said_once_not_per_revision(
    tmp_path: Path,
) -> None:
    """zuul: all 38 downgrades raise. An upgrade-only chain by policy: no MP008 each (verify
    says it once under "not checked"); one revision that can go down keeps them."""
    raises = 'raise Exception("Downgrades not supported")'
    write_project(tmp_path, [rev(1, None, downgrade=raises), rev(2, "r1", downgrade=raises)])
    assert findings(tmp_path) == []
    write_project(tmp_path, [rev(3, "r2")])
    assert [(f[0], f[1]) for f in findings(tmp_path)] == [("MP008", "r1"), ("MP008", "r2")]


def test_a_downgrade_that_raises_only_on_a_condition_is_not_irreversible(tmp_path: Path) -> None:
    downgrade = "if op.get_bind().dialect.name == 'sqlite':\n    raise Exception('no')\n" + (
        "op.drop_table('t1')"
    )
    write_project(tmp_path, [rev(1, None, downgrade=downgrade)])
    assert findings(tmp_path) == []


def test_declared_irreversible_revision_is_not_a_missing_downgrade(tmp_path: Path) -> None:
    write_project(tmp_path, [rev(1, None, downgrade="pass")])
    assert [f[0] for f in findings(tmp_path, **{"verify.irreversible": ["r1"]})] == ["MP008"]


def test_duplicate_revision_id(tmp_path: Path) -> None:
    write_project(
        tmp_path, [rev(1, None), Revision(id="r1", down=None, upgrade="pass", filename="copy.py")]
    )
    assert "MP007" in [f[0] for f in findings(tmp_path)]


def test_annotated_headers_of_new_alembic_templates_are_read(tmp_path: Path) -> None:
    path = tmp_path / "abc.py"
    path.write_text(
        'revision: str = "abc"\ndown_revision: str | None = "def"\n'
        "branch_labels: str | None = None\n\ndef upgrade() -> None:\n    op.execute('x')\n\n"
        "def downgrade() -> None:\n    op.execute('y')\n"
    )
    parsed = read_revision_file(path)
    assert (parsed.revision, parsed.down_revisions, parsed.downgrade) == (
        "abc",
        ("def",),
        DowngradeKind.PRESENT,
    )


def test_missing_alembic_ini_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"alembic\.ini does not exist"):
        load_project(load_config(tmp_path), tmp_path)


def test_malformed_alembic_ini_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "alembic.ini").write_text("[alembic\nscript_location = x\n")
    with pytest.raises(ConfigError, match="malformed"):
        load_project(load_config(tmp_path), tmp_path)


def test_unknown_section_names_the_sections_there_are(tmp_path: Path) -> None:
    write_project(tmp_path, [rev(1, None)])
    with pytest.raises(ConfigError, match=r"no \[reporting\] section \(sections: alembic\)"):
        load_project(load_config(tmp_path, overrides={"alembic-name": "reporting"}), tmp_path)


def test_ancestors_and_descendants_across_a_merge(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        [
            rev(1, None),
            rev(2, "r1"),
            rev(3, "r1"),
            Revision(id="r4", down=("r2", "r3"), upgrade="pass", downgrade="pass"),
        ],
    )
    graph = load_project(load_config(tmp_path), tmp_path).graph
    assert graph.ancestors("r4") == {"r1", "r2", "r3"}
    assert graph.ancestors("r2") == {"r1"}  # not its sibling on the other branch
    assert graph.ancestors("r1") == set()
    assert graph.descendants("r2") == {"r4"}


@pytest.mark.parametrize(
    ("separator", "listed"),
    [
        ("path_separator = ;", "%(here)s/db/a;%(here)s/db/b"),  # Alembic 1.16+
        ("version_path_separator = ;", "%(here)s/db/a;%(here)s/db/b"),
        ("", "%(here)s/db/a %(here)s/db/b"),  # none: spaces and commas, as Alembic always did
    ],
)
def test_version_locations_split_as_alembic_splits_them(
    tmp_path: Path, separator: str, listed: str
) -> None:
    write_project(tmp_path, [])
    ini = tmp_path / "alembic.ini"
    ini.write_text(f"{ini.read_text()}{separator}\nversion_locations = {listed}\n")
    for name, down in (("a", None), ("b", "ra")):
        (tmp_path / "db" / name).mkdir(parents=True)
        (tmp_path / "db" / name / f"r{name}.py").write_text(
            Revision(id=f"r{name}", down=down, upgrade="pass", downgrade="pass").source()
        )
    project = load_project(load_config(tmp_path), tmp_path)
    assert project.version_locations == [tmp_path / "db" / "a", tmp_path / "db" / "b"]
    assert sorted(project.graph.by_id) == ["ra", "rb"]


def test_sqlalchemy_1_4_is_a_usage_error() -> None:
    from migproof.chain.project import _check_sqlalchemy
    from migproof.errors import ConfigError

    with pytest.raises(ConfigError, match=r"SQLAlchemy 1\.4\.54 is installed"):
        _check_sqlalchemy("1.4.54")
    _check_sqlalchemy("2.0.36")  # nothing raised


@pytest.mark.parametrize(
    ("header", "state"),
    [
        ("", False),
        ('revision_note: str = "x"\nALIAS = sa.Integer', False),
        ("metadata = sa.MetaData()", True),
        ("Base = declarative_base()", True),
        ("class Base(DeclarativeBase):\n    pass", True),
        ('from shop.models import metadata\nt = sa.Table("t", metadata, sa.Column("id"))', False),
        ("class Legacy:\n    pass", False),
    ],
    ids=["template", "constants", "metadata", "base", "base-class", "imported-metadata", "class"],
)
def test_module_state_is_what_top_level_code_makes(
    tmp_path: Path, header: str, state: bool
) -> None:
    from migproof.chain.graph import read_revision_file

    path = tmp_path / "r1.py"
    path.write_text(Revision(id="r1", down=None, upgrade="pass", header=header).source())
    assert read_revision_file(path).module_state is state


@pytest.mark.parametrize(
    ("config_file", "text", "where"),
    [
        (None, "", "heads in [tool.migproof.verify] of pyproject.toml"),
        ("migproof.toml", "[verify]\n", "heads in [verify] of migproof.toml"),
        (
            "pyproject.toml",
            "[tool.migproof]\n",
            "heads in [tool.migproof.verify] of pyproject.toml",
        ),
    ],
)
def test_the_fix_names_the_table_of_the_project_s_own_configuration_file(
    tmp_path: Path, config_file: str | None, text: str, where: str
) -> None:
    write_project(tmp_path, [rev(1, None), rev(2, "r1"), rev(3, "r1")])
    if config_file:
        (tmp_path / config_file).write_text(text)
    config = load_config(tmp_path)
    project = load_project(config, tmp_path)
    project.script_directory()
    (finding,) = check_graph(project, config)
    assert finding.fix is not None and finding.fix.endswith(f"declare the intended heads ({where})")


def label(root: Path, n: int, name: str) -> None:
    path = root / "migrations" / "versions" / f"r{n}.py"
    path.write_text(
        path.read_text().replace("branch_labels = None", f"branch_labels = ({name!r},)")
    )


def heads_finding(root: Path) -> tuple[str, str]:
    config = load_config(root)
    project = load_project(config, root)
    project.script_directory()
    (finding,) = check_graph(project, config)
    assert finding.check == "MP002" and finding.fix is not None
    return finding.message, finding.fix


def test_separate_labelled_branches_are_told_to_be_declared_not_merged(tmp_path: Path) -> None:
    """galaxy keeps two labelled branches from two bases on purpose: merging them is the
    wrong advice; declaring them is the right one."""
    write_project(tmp_path, [rev(1, None), rev(2, "r1"), rev(3, None), rev(4, "r3")])
    label(tmp_path, 1, "gxy")
    label(tmp_path, 3, "tsi")
    message, fix = heads_finding(tmp_path)
    assert message == (
        "the chain has 2 separate labelled branches, each with its own base and head: "
        "r2 (r2.py), r4 (r4.py)"
    )
    assert fix == (
        'declare them, heads = ["gxy@head", "tsi@head"] (heads in [tool.migproof.verify] of '
        "pyproject.toml)"
    )
    (tmp_path / "pyproject.toml").write_text(
        '[tool.migproof.verify]\nheads = ["gxy@head", "tsi@head"]\n'
    )
    assert findings(tmp_path) == []


@pytest.mark.parametrize("labels", [{1: "gxy"}, {}], ids=["one-unlabelled", "none-labelled"])
def test_a_fork_or_unlabelled_bases_are_still_told_to_merge(
    tmp_path: Path, labels: dict[int, str]
) -> None:
    write_project(tmp_path, [rev(1, None), rev(2, "r1"), rev(3, None), rev(4, "r3")])
    for n, name in labels.items():
        label(tmp_path, n, name)
    message, fix = heads_finding(tmp_path)
    assert message.startswith("the chain has 2 heads: ")
    assert fix.startswith("merge them with `alembic merge heads -m merge`")


def test_labelled_branches_of_one_base_are_a_fork_or_expand_and_contract(tmp_path: Path) -> None:
    """Two labelled branches from one base: a fork to merge, or keystone's and glance's
    expand/contract branches to declare; the fix says both, with the labels to declare."""
    write_project(tmp_path, [rev(1, None), rev(2, "r1"), rev(3, "r1")])
    label(tmp_path, 2, "expand")
    label(tmp_path, 3, "contract")
    message, fix = heads_finding(tmp_path)
    assert message.startswith("the chain has 2 heads: ")
    assert fix == (
        "merge them with `alembic merge heads -m merge`; if the labelled branches are meant to "
        'stay apart (expand/contract), declare them, heads = ["expand@head", "contract@head"] '
        "(heads in [tool.migproof.verify] of pyproject.toml)"
    )


def test_an_irreversible_revision_without_downgrade_points_at_its_upgrade(tmp_path: Path) -> None:
    write_project(tmp_path, [rev(1, None)])
    path = tmp_path / "migrations" / "versions" / "r1.py"
    text = path.read_text()
    path.write_text(text[: text.index("\n\ndef downgrade():")] + "\n")
    assert findings(tmp_path, **{"verify.irreversible": ["r1"]}) == [
        ("MP008", "r1", "r1.py", line_of(path, "def upgrade"))
    ]


def set_header(root: Path, n: int, name: str, value: str) -> None:
    path = root / "migrations" / "versions" / f"r{n}.py"
    path.write_text(path.read_text().replace(f"{name} = None", f"{name} = {value}"))


def expand_contract(root: Path, *, labels: tuple[str, str]) -> None:
    """r1, then r3 'expand' and r2 'contract' on it; r2 depends on r3 (glance's layout:
    the contract revision sorts first by id, and needs the expand one applied)."""
    write_project(root, [rev(1, None), rev(2, "r1"), rev(3, "r1")])
    set_header(root, 3, "branch_labels", labels[0])
    set_header(root, 2, "branch_labels", labels[1])
    set_header(root, 2, "depends_on", "'r3'")


def test_a_revision_comes_after_what_it_depends_on(tmp_path: Path) -> None:
    expand_contract(tmp_path, labels=("('expand',)", "('contract',)"))
    config = load_config(tmp_path, overrides={"verify.heads": ["expand@head", "contract@head"]})
    project = load_project(config, tmp_path)
    project.script_directory()
    graph = project.graph
    assert [r.revision for r in graph.topological_order()] == ["r1", "r3", "r2"]
    assert graph.descendants("r3") == {"r2"}  # a failed r3 blocks r2
    assert graph.ancestors("r2") == {"r1", "r3"}
    assert graph.ancestors("r2", dependencies=False) == {"r1"}
    assert [h.revision for h in graph.heads()] == ["r2", "r3"]  # depends_on makes no head
    assert list(check_graph(project, config)) == []


def test_branch_labels_written_as_names_are_read_from_the_module(tmp_path: Path) -> None:
    """glance: ``branch_labels = (migration.EXPAND_BRANCH,)``; Alembic knows the label, and
    so must the heads declared with it."""
    expand_contract(tmp_path, labels=("(EXPAND,)", "('ocata01', CONTRACT)"))
    for n, name in ((3, "EXPAND"), (2, "CONTRACT")):
        path = tmp_path / "migrations" / "versions" / f"r{n}.py"
        text = path.read_text()
        path.write_text(
            text.replace("\nrevision = ", f'\n{name} = "{name.lower()}"\nrevision = ', 1)
        )
    config = load_config(tmp_path, overrides={"verify.heads": ["expand@head", "contract@head"]})
    project = load_project(config, tmp_path)
    assert project.graph.by_id["r3"].branch_labels == ()  # the source alone does not say
    project.script_directory()
    assert project.graph.by_id["r3"].branch_labels == ("expand",)
    assert set(project.graph.by_id["r2"].branch_labels) == {"ocata01", "contract"}
    assert list(check_graph(project, config)) == []


@pytest.mark.parametrize(("empty", "hinted"), [(4, False), (5, True)])
def test_many_empty_downgrades_name_the_chain_wide_setting(
    tmp_path: Path, empty: int, hinted: bool
) -> None:
    # mlflow: 25 revisions whose downgrade() is `pass` by policy
    write_project(
        tmp_path,
        [rev(n, f"r{n - 1}" if n > 1 else None, downgrade="pass") for n in range(1, empty + 1)]
        + [rev(empty + 1, f"r{empty}")],
    )
    config = load_config(tmp_path)
    project = load_project(config, tmp_path)
    project.script_directory()
    fixes = [f.fix or "" for f in check_graph(project, config) if f.check == "MP006"]
    assert len(fixes) == empty
    assert all(fix.startswith("write the downgrade, or raise NotImplementedError") for fix in fixes)
    assert all(('irreversible = ["*"]' in fix) is hinted for fix in fixes)
    if hinted:
        assert f"; {empty} revisions have none:" in fixes[0]
