"""A first-time MNIST fetch says so before it starts (a status line on the gantheory logger,
which the command lines print on stderr); a run with its data at hand prints nothing."""

import logging

import pytest

from gantheory.errors import DataError
from gantheory.mnist.rundir import load_data
from tests.mnist.tiny import tiny


def test_an_empty_cache_announces_the_fetch(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("GANTHEORY_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("GANTHEORY_OFFLINE", "1")  # the fetch itself is refused: no network here
    with caplog.at_level(logging.INFO, logger="gantheory"), pytest.raises(DataError):
        load_data(tiny(data="mnist"))
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("gantheory")]
    assert any(m.startswith("fetching MNIST once") and str(tmp_path / "cache") in m
               for m in lines), lines


def test_data_at_hand_needs_no_announcement(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("GANTHEORY_DATA", str(tmp_path / "cache"))
    with caplog.at_level(logging.INFO, logger="gantheory"):
        load_data(tiny())  # synthetic data
        with pytest.raises(DataError):
            load_data(tiny(data="mnist"), root=tmp_path / "nothing-here")  # the user's own copy
    assert not [r for r in caplog.records if "fetching MNIST" in r.getMessage()]
