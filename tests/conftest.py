"""Shared fixtures. External services are used only when their URL is set."""

import os

import pytest

from tests import factories


@pytest.fixture
def org(db):
    return factories.make_small_council()


def pytest_collection_modifyitems(config, items):
    skip_redis = pytest.mark.skip(reason="REDIS_URL is not set")
    skip_pg = pytest.mark.skip(reason="DATABASE_URL is not set")
    for item in items:
        if "redis" in item.keywords and not os.environ.get("REDIS_URL"):
            item.add_marker(skip_redis)
        if "postgres" in item.keywords and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
            item.add_marker(skip_pg)
