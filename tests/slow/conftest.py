"""Every test in tests/slow is marked ``slow``: the default run (``pytest tests``) deselects them (pyproject.toml's
``addopts``); ``python -m pytest -q -m slow tests/slow`` runs them."""
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(pytest.mark.slow)
