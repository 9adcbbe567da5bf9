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


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a working CUDA GPU (CuPy); skipped cleanly without one")


def pytest_collection_modifyitems(config, items):
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if not gpu_items:
        return
    from distsnn.backends.gpu.device import usable_gpu
    ok, reason = usable_gpu()
    if ok:
        return
    skip = pytest.mark.skip(reason=f"no usable GPU: {reason}")
    for item in gpu_items:
        item.add_marker(skip)
