"""Knowledge stores are registered and opened through the csmkit_knowledge_stores hook."""

from __future__ import annotations

from pathlib import Path

import pytest

from csmkit.errors import PluginError, StorageError, StoreArgumentError
from csmkit.hookspecs import hookimpl
from csmkit.knowledge import MemoryKnowledgeStore, SqliteKnowledgeStore
from csmkit.plugins import PluginManager, StoreBackend


def test_builtin_knowledge_stores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pm = PluginManager(load_entrypoints=False)
    assert list(pm.knowledge_stores()) == ["memory", "sqlite"]
    assert isinstance(pm.open_knowledge_store("memory://"), MemoryKnowledgeStore)
    monkeypatch.chdir(tmp_path)
    store = pm.open_knowledge_store("sqlite:///kb.db")
    assert isinstance(store, SqliteKnowledgeStore)
    store.close()
    assert (tmp_path / "kb.db").is_file()
    absolute = pm.open_knowledge_store(f"sqlite:///{tmp_path / 'abs.db'}")
    assert isinstance(absolute, SqliteKnowledgeStore)
    absolute.close()


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("kb.db", StoreArgumentError),
        ("postgresql://db/kb", StorageError),
        ("memory://x", StoreArgumentError),
        ("sqlite://relative.db", StoreArgumentError),
        ("sqlite:///kb.db?timeout=3", StoreArgumentError),
    ],
)
def test_bad_knowledge_store_urls(url: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        PluginManager(load_entrypoints=False).open_knowledge_store(url)


def test_a_plugin_returning_something_else_is_a_plugin_error() -> None:
    class Wrong:
        @hookimpl
        def csmkit_knowledge_stores(self) -> list[StoreBackend]:
            return [StoreBackend("wrong", lambda url: object())]

    pm = PluginManager([Wrong()], load_entrypoints=False)
    with pytest.raises(PluginError, match=r"does not implement csmkit\.knowledge\.KnowledgeStore"):
        pm.open_knowledge_store("wrong://x")


def test_a_plugin_cannot_take_a_builtin_scheme() -> None:
    class Clash:
        @hookimpl
        def csmkit_knowledge_stores(self) -> list[StoreBackend]:
            return [StoreBackend("sqlite", lambda url: MemoryKnowledgeStore())]

    with pytest.raises(PluginError, match="registered twice"):
        PluginManager([Clash()], load_entrypoints=False).knowledge_stores()
