"""csmkit report --workers / --scheduler: the report on Dask, the same rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csmkit.cli import main
from csmkit.cli._scale import export_files

DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
LINES = (DATA / "demo-export.jsonl").read_text(encoding="utf-8").splitlines()


def _split(folder: Path, parts: int) -> None:
    for i in range(parts):
        (folder / f"part-{i}.jsonl").write_text("\n".join(LINES[i::parts]) + "\n", "utf-8")


def test_export_files_reads_a_file_a_directory_or_a_glob(tmp_path: Path) -> None:
    _split(tmp_path, 3)
    (tmp_path / "notes.txt").write_text("not an export", "utf-8")
    names = ["part-0.jsonl", "part-1.jsonl", "part-2.jsonl"]
    assert [p.name for p in export_files(str(tmp_path))] == names
    assert [p.name for p in export_files(str(tmp_path / "part-[01].jsonl"))] == names[:2]
    assert [p.name for p in export_files(str(tmp_path / "part-2.jsonl"))] == names[2:]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--workers", "2", "--plot", "x.png"], "--plot needs the tickets in one process"),
        (["--workers", "2", "--scheduler", "tcp://x:1"], "give --workers"),
        (["--workers", "0"], "--workers 0: give a number of processes >= 1"),
    ],
)
def test_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    _split(tmp_path, 2)
    assert main(["report", str(tmp_path), *extra]) == 2
    assert message in capsys.readouterr().err


def test_no_export_files_is_a_data_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path / "*.jsonl"), "--workers", "1"]) == 1
    assert "no export files" in capsys.readouterr().err


@pytest.mark.slow
def test_scheduler_gives_the_one_process_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from distributed import LocalCluster

    _split(tmp_path, 4)
    whole = tmp_path / "whole"
    whole.mkdir()
    (whole / "all.jsonl").write_text("\n".join(LINES) + "\n", "utf-8")
    common = ["--by", "channel", "--period", "week", "--survey", "csat:0-10:mean"]
    common += ["--format", "json"]
    assert main(["report", str(whole / "all.jsonl"), *common]) == 0
    one = json.loads(capsys.readouterr().out)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        assert main(["report", str(tmp_path / "part-*.jsonl"), *common,
                     "--scheduler", cluster.scheduler_address]) == 0  # fmt: skip
    spread = json.loads(capsys.readouterr().out)
    assert spread["rows"] == one["rows"] and spread["columns"] == one["columns"]
    assert spread["meta"]["tickets"] == one["meta"]["tickets"] == 321
    assert spread["meta"]["now"] == one["meta"]["now"]
    assert spread["meta"]["definitions"]["csat"] == "mean answer on the 0-10 scale, latest answer"
