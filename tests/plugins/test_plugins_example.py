"""The example third-party plugin under examples/ is discovered end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from csmkit.plugins import PluginManager
from csmkit.storage import MemoryStore, open_store
from csmkit.testing import PluginContract

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plugin_example"
ENTRY_POINT = '[project.entry-points.csmkit]\nexample = "csmkit_example_plugin"'


def _forget_example_module(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name.startswith("csmkit_example_plugin"):
            monkeypatch.delitem(sys.modules, name)


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Install the example the way an installer lays it out, without network or build.

    An installed distribution is a ``*.dist-info`` directory with ``METADATA`` and
    ``entry_points.txt`` on ``sys.path``; the package itself comes from examples/.
    """
    assert ENTRY_POINT in (EXAMPLE / "pyproject.toml").read_text(encoding="utf-8")
    info = tmp_path / "csmkit_example_plugin-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: csmkit-example-plugin\nVersion: 0.1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[csmkit]\nexample = csmkit_example_plugin\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.syspath_prepend(str(tmp_path))
    _forget_example_module(monkeypatch)


def _check_discovery() -> None:
    manager = PluginManager()
    (info,) = [i for i in manager.list_plugins() if i.name == "example"]
    assert (info.source, info.distribution, info.version) == (
        "entrypoint",
        "csmkit-example-plugin",
        "0.1.0",
    )
    assert list(manager.store_backends()) == ["demo", "memory", "postgresql", "sqlite"]
    assert list(manager.outbound_channels()) == ["console"]
    with open_store("demo://") as store:  # open_store's own manager finds it too
        assert isinstance(store, MemoryStore)
    auto_reply = SimpleNamespace(subject="自动回复：我正在休假", in_reply_to=None, references=())
    assert not manager.accepts_inbound(auto_reply)
    assert manager.accepts_inbound(SimpleNamespace(subject="空调不制冷"))
    notifier = manager.outbound_channels()["console"].factory(prefix="[客服]")
    import csmkit_example_plugin

    before = len(csmkit_example_plugin.DELIVERIES)
    assert manager.deliver_notification("工单 T-1 已受理", notifier) == "[客服] 工单 T-1 已受理"
    assert csmkit_example_plugin.DELIVERIES[before:] == ["console"]


@pytest.mark.usefixtures("installed")
def test_example_plugin_is_discovered() -> None:
    _check_discovery()


@pytest.mark.usefixtures("installed")
def test_example_plugin_can_be_blocked() -> None:
    manager = PluginManager(blocked=["example"])
    assert "demo" not in manager.store_backends()


def test_example_plugin_is_not_loaded_when_not_installed() -> None:
    assert "demo" not in PluginManager().store_backends()


@pytest.mark.slow
def test_example_plugin_pip_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real ``pip install`` of the example (offline: no deps, no build isolation)."""
    target = tmp_path / "site"
    build = tmp_path / "src"
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import shutil, sys; shutil.copytree(sys.argv[1], sys.argv[2])",
            str(EXAMPLE),
            str(build),
        ],
        check=True,
        timeout=60,
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            str(build),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    missing = ("bdist_wheel", "No module named 'setuptools'", "Cannot import 'setuptools")
    if result.returncode != 0 and any(marker in result.stderr for marker in missing):
        pytest.skip("this environment cannot build wheels offline (needs setuptools + wheel)")
    assert result.returncode == 0, result.stderr
    monkeypatch.syspath_prepend(str(target))
    _forget_example_module(monkeypatch)
    _check_discovery()


class TestExamplePluginContract(PluginContract):
    @pytest.fixture
    def plugin(self, monkeypatch: pytest.MonkeyPatch) -> object:
        monkeypatch.syspath_prepend(str(EXAMPLE))
        _forget_example_module(monkeypatch)
        import csmkit_example_plugin

        return csmkit_example_plugin
