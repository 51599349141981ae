"""What one guard run looks at: the diff, the project's layout, and file contents at both ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from migproof.guard.gitdiff import Change, GitDiff, ObjectReader
from migproof.guard.project import GuardProject
from migproof.guard.revisions import Revision, parse_revision

__all__ = ["GuardContext", "NewRevisionFile", "is_migration_file"]


def is_migration_file(path: str) -> bool:
    """A revision module or a SQL migration (not ``__init__.py``, READMEs or templates)."""
    name = path.rsplit("/", 1)[-1]
    if name.endswith(".py"):
        return name != "__init__.py" and not name.startswith(".#")
    return name.endswith(".sql")


@dataclass(frozen=True, slots=True)
class NewRevisionFile:
    """A new Python file in a migration directory: its revision header, or why it did not parse."""

    change: Change
    revision: Revision | None = None
    error: SyntaxError | ValueError | None = None


@dataclass(slots=True)
class GuardContext:
    """The diff split into migration changes and candidate schema files."""

    diff: GitDiff
    project: GuardProject
    objects: ObjectReader
    new_migrations: list[Change] = field(default_factory=list)
    changed_migrations: list[Change] = field(default_factory=list)
    candidates: list[Change] = field(default_factory=list)
    _revision_files: list[NewRevisionFile] | None = field(default=None, init=False, repr=False)

    @classmethod
    def build(cls, diff: GitDiff, project: GuardProject, objects: ObjectReader) -> GuardContext:
        context = cls(diff, project, objects)
        for change in diff.changes:
            context._classify(change)
        return context

    def _classify(self, change: Change) -> None:
        project = self.project
        was_migration = (
            change.status == "R"
            and change.old_path is not None
            and project.migration_dir_of(change.old_path) is not None
            and is_migration_file(change.old_path)
        )
        if was_migration:
            self.changed_migrations.append(change)  # renamed or moved: it existed at the base
        elif project.migration_dir_of(change.path) is not None:
            if not is_migration_file(change.path):
                return
            if change.status in "ACR":
                self.new_migrations.append(change)
            else:
                self.changed_migrations.append(change)
        elif change.path.endswith((".py", ".sql")):
            self.candidates.append(change)

    @property
    def toplevel(self) -> Path:
        return self.diff.toplevel

    def prefetch(self, changes: list[Change]) -> None:
        """Read both versions of these files in one round trip to git."""
        specs = [f"{self.diff.head}:{c.path}" for c in changes if c.status != "D"]
        specs += [
            f"{self.diff.merge_base}:{c.old_path or c.path}"
            for c in changes
            if c.status not in "AC"
        ]
        self.objects.prefetch(specs)

    def base_text(self, change: Change) -> str | None:
        if change.status in "AC":
            return None
        return self.objects.text(self.diff.merge_base, change.old_path or change.path)

    def head_text(self, change: Change) -> str | None:
        if change.status == "D":
            return None
        return self.objects.text(self.diff.head, change.path)

    def new_revision_files(self) -> list[NewRevisionFile]:
        """Each new Python migration file, parsed once (whole: its syntax errors are MP706)."""
        if self._revision_files is None:
            self._revision_files = []
            for change in self.new_migrations:
                source = self.head_text(change) if change.path.endswith(".py") else None
                if source is None:
                    continue
                try:
                    revision = parse_revision(source, change.path, whole=True)
                except (SyntaxError, ValueError) as exc:
                    self._revision_files.append(NewRevisionFile(change, error=exc))
                else:
                    self._revision_files.append(NewRevisionFile(change, revision))
        return self._revision_files

    def has_new_migration(self) -> bool:
        """A new SQL migration, or a new Python file that declares a ``revision``.

        A revision file that does not parse still counts: it is the migration, and MP706
        reports it.
        """
        if any(not change.path.endswith(".py") for change in self.new_migrations):
            return True
        return any(f.revision is not None or f.error is not None for f in self.new_revision_files())

    def expected_migration(self) -> str:
        """Where the missing migration should go, in the user's own directory names."""
        dirs = [d for d, _ in self.project.migration_dirs]
        return " or ".join(f"{d}/" for d in dirs) if dirs else "a migration directory"
