"""Shared fixtures of the sync tests."""

import pytest

from mf_sync.simulated import PlaceDescriptors


@pytest.fixture
def places():
    return PlaceDescriptors()
