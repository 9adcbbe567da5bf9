import os
import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))   # tests share network builders


@pytest.fixture(scope="session")
def shared_data():
    """Directory of the project's shared model data (DISTSNN_DATA or ../shared/data)."""
    path = pathlib.Path(os.environ.get("DISTSNN_DATA", REPO.parent / "shared" / "data"))
    if not (path / "microcircuit.json").exists():
        pytest.skip(f"shared model data not found at {path} (set DISTSNN_DATA)")
    return path
