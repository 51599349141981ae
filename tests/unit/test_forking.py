"""migproof.forking: where forking is safe and how many cores a process may use."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from migproof.forking import can_fork, usable_cores


def test_a_cgroup_cpu_quota_counts_as_fewer_cores(tmp_path: Path) -> None:
    cores = len(os.sched_getaffinity(0))
    assert usable_cores(tmp_path) == cores  # no cgroup files: affinity alone
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert usable_cores(tmp_path) == cores
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert usable_cores(tmp_path) == min(cores, 1.5)
    (tmp_path / "cpu.max").unlink()
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert usable_cores(tmp_path) == cores
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("100000\n")
    assert usable_cores(tmp_path) == 1.0


def test_forking_is_safe_unasked_only_on_linux_with_no_other_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr("sys.platform", "linux")
    assert can_fork()
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert not can_fork()
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr("sys.platform", "darwin")
    assert not can_fork()
