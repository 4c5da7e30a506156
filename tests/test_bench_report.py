"""Benchmark headers name the versions really installed, under whichever distribution provides them."""

import importlib.metadata

from mfcore.kit import environment, markdown_table


def test_versions_come_from_the_installed_distribution(monkeypatch):
    installed = {"tensorflow-cpu": "9.9.9", "numpy": "1.2.3"}

    def version(name):
        if name not in installed:
            raise importlib.metadata.PackageNotFoundError(name)
        return installed[name]

    monkeypatch.setattr(importlib.metadata, "version", version)
    env = environment(["tensorflow", "numpy", "nothing-here"])
    assert env["versions"] == "tensorflow-cpu 9.9.9, numpy 1.2.3, nothing-here (not installed)"


def test_markdown_tables_keep_every_column_in_order():
    text = markdown_table([{"a": 1, "b": 2}, {"a": 3, "c": 4}])
    assert text.splitlines() == ["| a | b | c |", "|---|---|---|", "| 1 | 2 |  |", "| 3 |  | 4 |"]
