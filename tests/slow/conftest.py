"""The expensive tests, in one place: every test here is marked ``slow``.

``pytest`` alone (or ``make test-fast``) leaves them out; ``make test`` and CI run them: full 30000-iteration
trainings of the course's models, the notebook run end to end, and tests that start real processes.
"""

import pytest

HERE = __file__.rsplit("/", 1)[0]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if str(item.path).startswith(HERE):
            item.add_marker(pytest.mark.slow)
