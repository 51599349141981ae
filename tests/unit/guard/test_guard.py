"""``guard`` on real git repositories: each check's reporting and non-reporting cases."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers.gitrepo import GitRepo
from tests.unit.guard.scenario import EMAIL, MODELS, revision

from migproof.config import load_config
from migproof.errors import ConfigError, SourceError
from migproof.findings import Finding
from migproof.guard import guard


def run(repo: GitRepo, base: str = "main") -> list[tuple[str, str, int | None, str]]:
    report = guard(load_config(repo.path), base)
    return [_row(f) for f in report.sorted_findings()]


def _row(finding: Finding) -> tuple[str, str, int | None, str]:
    assert finding.location is not None
    return (finding.check, str(finding.location.path), finding.location.line, finding.message)


def test_model_column_without_migration_fails(repo: GitRepo) -> None:
    repo.commit({"shop/models.py": MODELS + EMAIL}, "add email")
    assert run(repo) == [
        (
            "MP701",
            "shop/models.py",
            16,
            "schema change without a migration: table users: column email added",
        )
    ]
    report = guard(load_config(repo.path), "main")
    assert report.findings[0].fix == (
        "add a new migration in migrations/versions/ that makes this change "
        "(alembic revision --autogenerate)"
    )


def test_model_column_with_migration_passes(repo: GitRepo) -> None:
    repo.commit(
        {
            "shop/models.py": MODELS + EMAIL,
            "migrations/versions/b2_email.py": revision(
                "b2", "a1", "op.add_column('users', sa.Column('email', sa.String(200)))"
            ),
        },
        "add email with its migration",
    )
    assert run(repo) == []


def test_migration_in_a_later_commit_of_the_branch_counts(repo: GitRepo) -> None:
    repo.commit({"shop/models.py": MODELS + EMAIL}, "add email")
    repo.commit({"migrations/versions/b2_email.py": revision("b2", "a1")}, "migration")
    assert run(repo) == []


@pytest.mark.parametrize(
    "new_models",
    [
        pytest.param(MODELS.replace("# shown on invoices", "# the name printed"), id="comment"),
        pytest.param(
            MODELS.replace(
                "mapped_column(sa.String(50))", "mapped_column(\n        sa.String(50),\n    )"
            ).replace("\n\n\nclass", "\n\nclass"),
            id="reformatted",
        ),
        pytest.param(
            MODELS.replace("class Base(DeclarativeBase)", "class Model(DeclarativeBase)").replace(
                "User(Base)", "User(Model)"
            ),
            id="renamed-local-name",
        ),
        pytest.param(
            MODELS.replace('"""Models of the shop."""', '"""The shop."""'), id="docstring"
        ),
    ],
)
def test_non_schema_edits_of_models_pass(repo: GitRepo, new_models: str) -> None:
    repo.commit({"shop/models.py": new_models}, "tidy")
    assert run(repo) == []


def test_model_column_removed_points_at_the_base_line(repo: GitRepo) -> None:
    repo.commit(
        {
            "shop/models.py": MODELS.replace(
                "    name: Mapped[str] = mapped_column(sa.String(50))  # shown on invoices\n", ""
            )
        },
        "drop name",
    )
    assert run(repo) == [
        (
            "MP701",
            "shop/models.py",
            15,
            "schema change without a migration: table users: column name removed "
            "(line 15 in main's version)",
        )
    ]


def test_models_outside_env_py_imports_are_not_schema(repo: GitRepo) -> None:
    repo.commit({"scripts/report_models.py": MODELS + EMAIL}, "a script with its own tables")
    assert run(repo) == []


def test_models_glob_from_config(repo: GitRepo) -> None:
    repo.commit(
        {
            "pyproject.toml": '[tool.migproof.guard]\nmodels = ["scripts/*.py"]\n',
            "scripts/report_models.py": MODELS,
        },
        "configure",
    )
    repo.git("branch", "-f", "main", "HEAD")
    repo.commit({"scripts/report_models.py": MODELS + EMAIL, "shop/models.py": MODELS + EMAIL})
    assert [(c, p) for c, p, _, _ in run(repo)] == [("MP701", "scripts/report_models.py")]


SCHEMA_SQL = """\
-- the schema, kept by hand
CREATE TABLE users (
    id bigint PRIMARY KEY,
    name text NOT NULL
);

INSERT INTO users (id, name) VALUES (1, 'admin');
"""


def sql_repo(repo: GitRepo) -> None:
    repo.commit(
        {
            "pyproject.toml": '[tool.migproof.guard]\nschema-sql = ["schema/*.sql"]\n',
            "schema/create_database.sql": SCHEMA_SQL,
        },
        "schema file",
    )
    repo.git("branch", "-f", "main", "HEAD")


def test_schema_sql_data_and_comment_changes_pass(repo: GitRepo) -> None:
    sql_repo(repo)
    edited = SCHEMA_SQL.replace("-- the schema, kept by hand", "-- kept by hand, see docs")
    edited = edited.replace("'admin'", "'root'") + "INSERT INTO users VALUES (2, 'guest');\n"
    edited = edited.replace("CREATE TABLE users (", "create table users(")
    repo.commit({"schema/create_database.sql": edited}, "data only")
    assert run(repo) == []


def test_schema_sql_ddl_change_fails(repo: GitRepo) -> None:
    sql_repo(repo)
    edited = SCHEMA_SQL.replace("name text NOT NULL", "name text NOT NULL,\n    email text")
    repo.commit({"schema/create_database.sql": edited}, "add email")
    assert run(repo) == [
        (
            "MP701",
            "schema/create_database.sql",
            2,
            "schema change without a migration: CREATE TABLE users: changed",
        )
    ]


def test_two_branches_adding_revisions_on_the_same_parent_fail(repo: GitRepo) -> None:
    repo.checkout("main")
    repo.commit({"migrations/versions/b2_orders.py": revision("b2", "a1")}, "orders (merged)")
    repo.checkout("feature")
    repo.commit({"migrations/versions/c3_email.py": revision("c3", "a1")}, "email")
    assert run(repo) == [
        (
            "MP702",
            "migrations/versions/c3_email.py",
            10,
            "revision c3 revises a1, which is not a head of main; after the merge the chain has "
            "two heads: c3 and b2 (migrations/versions/b2_orders.py)",
        )
    ]


def test_revision_on_the_base_head_passes(repo: GitRepo) -> None:
    repo.checkout("main")
    repo.commit({"migrations/versions/b2_orders.py": revision("b2", "a1")}, "orders (merged)")
    repo.checkout("feature")
    repo.git("rebase", "-q", "main")
    repo.commit({"migrations/versions/c3_email.py": revision("c3", "b2")}, "email")
    assert run(repo) == []


def test_unknown_down_revision_and_duplicate_id(repo: GitRepo) -> None:
    repo.commit(
        {
            "migrations/versions/x9_typo.py": revision("x9", "zz"),
            "migrations/versions/a1_again.py": revision("a1", "x9"),
        }
    )
    assert [(c, p, line) for c, p, line, _ in run(repo)] == [
        ("MP705", "migrations/versions/a1_again.py", 1),
        ("MP707", "migrations/versions/x9_typo.py", 10),
    ]


def test_edited_old_migration_fails(repo: GitRepo) -> None:
    repo.commit(
        {"migrations/versions/a1_init.py": revision("a1", None, "op.create_table('t')")}, "edit"
    )
    assert run(repo) == [
        (
            "MP703",
            "migrations/versions/a1_init.py",
            1,
            "migration migrations/versions/a1_init.py exists on main and was modified: "
            "databases that applied it will never run the new version",
        )
    ]


@pytest.mark.parametrize(
    ("config_file", "where"),
    [
        (None, "[tool.migproof.guard] of pyproject.toml"),
        ("migproof.toml", "[guard] of migproof.toml"),
    ],
)
def test_edited_old_migration_fix_names_allow_edited_where_the_project_sets_it(
    repo: GitRepo, config_file: str | None, where: str
) -> None:
    files: dict[str, str | None] = {
        "migrations/versions/a1_init.py": revision("a1", None, "op.create_table('t')")
    }
    if config_file:
        files[config_file] = "[guard]\nmodels = []\n"
    repo.commit(files, "edit")
    (finding,) = guard(load_config(repo.path), "main").findings
    assert finding.fix == (
        f"restore it and make the change in a new migration, or list it in allow-edited in "
        f"{where} if no database has applied it"
    )


def test_comment_only_edit_of_old_revision_passes(repo: GitRepo) -> None:
    text = revision("a1", None).replace('"""a1\n', '"""a1: the first one\n')
    repo.commit({"migrations/versions/a1_init.py": text + "# reviewed\n"}, "docs")
    assert run(repo) == []


def test_allowed_edit_passes(repo: GitRepo) -> None:
    repo.commit(
        {
            "pyproject.toml": '[tool.migproof.guard]\nallow-edited = ["migrations/versions/a1_*"]\n',
            "migrations/versions/a1_init.py": revision("a1", None, "op.create_table('t')"),
        },
        "edit, allowed",
    )
    assert run(repo) == []


def test_deleted_old_migration_fails(repo: GitRepo) -> None:
    repo.commit({"migrations/versions/a1_init.py": None}, "squash")
    assert [(c, p) for c, p, _, _ in run(repo)] == [("MP703", "migrations/versions/a1_init.py")]


def sql_migrations_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    repo = GitRepo(tmp_path / "sqlproj")
    repo.commit(
        {
            "db/migrations/000001_users.up.sql": "CREATE TABLE users (id bigint);\n",
            "db/migrations/000001_users.down.sql": "DROP TABLE users;\n",
            "db/migrations/000003_orders.up.sql": "CREATE TABLE orders (id bigint);\n",
            "db/migrations/000003_orders.down.sql": "DROP TABLE orders;\n",
        },
        "initial",
    )
    repo.branch("feature")
    monkeypatch.chdir(repo.path)
    return repo


def test_sql_migrations_edited_and_out_of_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = sql_migrations_repo(tmp_path, monkeypatch)
    repo.commit(
        {
            "db/migrations/000001_users.up.sql": "CREATE TABLE users (id bigint); -- pk later\n",
            "db/migrations/000002_email.up.sql": "ALTER TABLE users ADD email text;\n",
            "db/migrations/000002_email.down.sql": "ALTER TABLE users DROP email;\n",
            "db/migrations/000003_items.up.sql": "CREATE TABLE items (id bigint);\n",
            "db/migrations/000004_ok.up.sql": "CREATE TABLE ok (id bigint);\n",
        }
    )
    assert [(c, p) for c, p, _, _ in run(repo)] == [
        ("MP703", "db/migrations/000001_users.up.sql"),
        ("MP704", "db/migrations/000002_email.down.sql"),
        ("MP704", "db/migrations/000002_email.up.sql"),
        ("MP705", "db/migrations/000003_items.up.sql"),
    ]


def test_flyway_versions_compare_as_migrate_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """V1.0 is version 1 to Flyway and to ``migrate`` (MP801), so guard reports the clash."""
    repo = GitRepo(tmp_path / "fly")
    repo.commit(
        {
            "pyproject.toml": '[tool.migproof.guard]\nmigration-dirs = ["sql"]\n',
            "sql/V1__b.sql": "CREATE TABLE b (id int);\n",
        }
    )
    repo.branch("feature")
    monkeypatch.chdir(repo.path)
    repo.commit({"sql/V1.0__a.sql": "CREATE TABLE a (id int);\n", "sql/V1.1__c.sql": "SELECT 1;\n"})
    assert run(repo) == [
        (
            "MP705",
            "sql/V1.0__a.sql",
            1,
            "version 1 of sql/V1.0__a.sql is already used by sql/V1__b.sql",
        )
    ]


def test_flyway_repeatable_edit_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = GitRepo(tmp_path / "fly")
    repo.commit(
        {
            "pyproject.toml": '[tool.migproof.guard]\nmigration-dirs = ["sql"]\n',
            "sql/V1__init.sql": "CREATE TABLE a (id int);\n",
            "sql/R__views.sql": "CREATE VIEW v AS SELECT 1;\n",
        }
    )
    repo.branch("feature")
    monkeypatch.chdir(repo.path)
    repo.commit(
        {"sql/R__views.sql": "CREATE VIEW v AS SELECT 2;\n", "sql/V2__b.sql": "SELECT 1;\n"}
    )
    assert run(repo) == []


def test_not_a_git_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SourceError, match="is not inside a git repository"):
        guard(load_config(tmp_path), "main")


def test_missing_ref_says_to_fetch(repo: GitRepo) -> None:
    with pytest.raises(SourceError) as caught:
        guard(load_config(repo.path), "origin/main")
    assert caught.value.what == "git revision 'origin/main' is not in this clone"
    assert caught.value.fix is not None
    assert "git fetch origin main" in caught.value.fix
    assert "fetch-depth: 0" in caught.value.fix


def test_no_migration_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = GitRepo(tmp_path / "bare")
    repo.commit({"app.py": "print('hi')\n"})
    monkeypatch.chdir(repo.path)
    with pytest.raises(ConfigError) as caught:
        guard(load_config(repo.path), "main")
    assert caught.value.fix is not None
    assert "migration-dirs" in caught.value.fix


def test_guard_imports_neither_sqlalchemy_alembic_nor_pglast(repo: GitRepo) -> None:
    """Python models are parsed, never imported; pglast only loads for changed SQL files."""
    import subprocess
    import sys

    repo.commit({"shop/models.py": MODELS + EMAIL}, "add email")
    script = (
        "import sys\n"
        "from migproof.config import load_config\n"
        "from migproof.guard import guard\n"
        "before = {m.split('.')[0] for m in sys.modules}\n"
        "report = guard(load_config(), 'main')\n"
        "after = {m.split('.')[0] for m in sys.modules}\n"
        "print(len(report.findings), sorted((after - before) & {'sqlalchemy', 'alembic', 'pglast'}),"
        " sorted(after & {'sqlalchemy', 'alembic'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=repo.path, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "1 [] []"


def test_github_pull_request_merge_commit(repo: GitRepo) -> None:
    """actions/checkout checks out refs/pull/N/merge: HEAD is the PR merged into the base."""
    repo.checkout("main")
    repo.commit({"migrations/versions/b2_orders.py": revision("b2", "a1")}, "orders (merged)")
    repo.checkout("feature")
    repo.commit(
        {"shop/models.py": MODELS + EMAIL, "migrations/versions/c3_email.py": revision("c3", "a1")}
    )
    repo.git("checkout", "-q", "-b", "pull-merge", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge feature into main", "feature")
    assert [(c, p) for c, p, _, _ in run(repo)] == [("MP702", "migrations/versions/c3_email.py")]


def test_two_new_revisions_on_the_same_head(repo: GitRepo) -> None:
    repo.commit(
        {
            "migrations/versions/b2_x.py": revision("b2", "a1"),
            "migrations/versions/c3_y.py": revision("c3", "a1"),
        }
    )
    assert run(repo) == [
        (
            "MP702",
            "migrations/versions/b2_x.py",
            10,
            "revision b2 revises a1, which another new revision revises too; after the merge "
            "the chain has two heads: b2 and c3 (migrations/versions/c3_y.py)",
        ),
        (
            "MP702",
            "migrations/versions/c3_y.py",
            10,
            "revision c3 revises a1, which another new revision revises too; after the merge "
            "the chain has two heads: c3 and b2 (migrations/versions/b2_x.py)",
        ),
    ]


def test_new_root_fails_unless_it_starts_a_labelled_branch(repo: GitRepo) -> None:
    repo.commit({"migrations/versions/r1_root.py": revision("r1", None)})
    assert [(c, m.split(";")[0]) for c, _, _, m in run(repo)] == [
        ("MP702", "revision r1 has no down_revision (a new root)")
    ]
    labelled = revision("r1", None).replace("branch_labels = None", 'branch_labels = ("audit",)')
    repo.commit({"migrations/versions/r1_root.py": labelled})
    assert run(repo) == []


def test_unparsable_new_revision(repo: GitRepo) -> None:
    repo.commit({"migrations/versions/b2_broken.py": 'revision = "b2"\ndef upgrade(:\n'})
    assert [(c, p, line) for c, p, line, _ in run(repo)] == [
        ("MP706", "migrations/versions/b2_broken.py", 2)
    ]


def test_an_unparsable_new_revision_still_counts_as_the_migration(repo: GitRepo) -> None:
    # the model change has its migration, broken as it is: MP706 alone, no MP701 besides it
    repo.commit(
        {
            "shop/models.py": MODELS + EMAIL,
            "migrations/versions/b2_broken.py": 'revision = "b2"\ndef upgrade(:\n',
        }
    )
    assert [(c, p, line) for c, p, line, _ in run(repo)] == [
        ("MP706", "migrations/versions/b2_broken.py", 2)
    ]


def test_a_helper_module_in_versions_is_not_a_migration(repo: GitRepo) -> None:
    repo.commit(
        {
            "shop/models.py": MODELS + EMAIL,
            "migrations/versions/_helpers.py": "def batch():\n    pass\n",
        }
    )
    assert [c for c, _, _, _ in run(repo)] == ["MP701"]


BOM = b"\xef\xbb\xbf"
TEXT = MODELS.lstrip("\n")  # as GitRepo.write writes it


@pytest.mark.parametrize(
    ("base", "head", "expected"),
    [
        # saved by an editor that writes a UTF-8 BOM: Python itself skips it
        (BOM + TEXT.encode(), BOM + (TEXT + EMAIL).encode(), [("MP701", 16)]),
        (TEXT.encode(), BOM + (TEXT + EMAIL).encode(), [("MP701", 16)]),
        (BOM + TEXT.encode(), BOM + (TEXT + "# a comment\n").encode(), []),
        (TEXT.encode(), BOM + TEXT.encode(), []),  # only the BOM added
    ],
)
def test_models_file_with_a_byte_order_mark(
    repo: GitRepo, base: bytes, head: bytes, expected: list[tuple[str, int]]
) -> None:
    models = repo.path / "shop/models.py"
    repo.checkout("main")
    models.write_bytes(base)
    repo.commit({}, "base models")
    repo.checkout("feature")
    repo.git("merge", "-q", "main")
    models.write_bytes(head)
    repo.commit({}, "head models")
    assert [(check, line) for check, _, line, _ in run(repo)] == expected


def test_schema_sql_file_with_a_byte_order_mark(repo: GitRepo) -> None:
    schema = repo.path / "schema.sql"
    schema.write_bytes(BOM + b"CREATE TABLE users (id int);\n")
    repo.commit({}, "schema with a BOM")
    repo.checkout("main")
    repo.git("merge", "-q", "feature")
    repo.checkout("feature")
    schema.write_bytes(
        BOM + b"-- users\nCREATE TABLE users (id int);\nINSERT INTO users VALUES (1);\n"
    )
    repo.commit({}, "comment and data")
    assert run(repo) == []
    schema.write_bytes(BOM + b"CREATE TABLE users (id int, name text);\n")
    repo.commit({}, "a column")
    assert [(check, line) for check, _, line, _ in run(repo)] == [("MP701", 1)]
