"""``csmkit serve``'s credentials file: made private, refused when others can read it."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from csmkit.cli import main
from csmkit.desk import ServiceDesk
from csmkit.web import WebConfigError
from csmkit.web._serve import _write_private, load_credentials, make_credentials


def test_credentials_hold_every_workflow_role_and_round_trip(
    desk: ServiceDesk, tmp_path: Path
) -> None:
    made = make_credentials(desk)
    path = tmp_path / "c.json"
    _write_private(path, made)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key_text, settings = load_credentials(path)
    (key,) = settings.api_keys
    assert key_text is not None and key.matches(key_text)
    assert key_text not in json.dumps(json.loads(path.read_text())["settings"])  # hashed there
    assert {"dispatcher", "engineer", "agent"} <= key.roles
    assert settings.wechat is not None and settings.webhook_secrets and settings.email
    assert set(settings.hooks) == {"github"}
    with pytest.raises(FileExistsError):
        _write_private(path, made)  # never overwrites


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_readable_by_others_is_refused(desk: ServiceDesk, tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(make_credentials(desk)))
    path.chmod(0o644)
    with pytest.raises(WebConfigError, match="readable by other users"):
        load_credentials(path)


def test_serve_without_a_file_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", str(tmp_path / "missing.toml")]) == 1
    assert "missing.toml: no such file" in capsys.readouterr().err
