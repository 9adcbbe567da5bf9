"""The README's Python examples run as they are written: each ```python block (except sketches
with `...` in place of data) is executed, in a fresh namespace, in an empty working directory,
so that an example that no longer runs (a renamed argument, a missing import) fails here.
The first block's network must also do what its comments say."""
import pathlib
import re

import h5py
import numpy as np
import pytest

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)
# a sketch leaves its data out: `W = ...`, or `...` as an argument
RUNNABLE = [b for b in BLOCKS if not re.search(r"=\s*\.\.\.|\(\.\.\.", b)]


def test_the_readme_has_runnable_examples():
    assert len(RUNNABLE) >= 2 and len(BLOCKS) > len(RUNNABLE)


def _run(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ns = {"__name__": "readme_example"}
    exec(compile(block, str(README), "exec"), ns)
    return ns


def test_first_example_does_what_it_says(tmp_path, monkeypatch):
    ns = _run(RUNNABLE[0], tmp_path, monkeypatch)
    result, more = ns["result"], ns["more"]
    assert 2.0 < result.mean_rates()["E"] < 50.0                # an active network, not a silent one
    ids, times, i_ex = ns["ids"], ns["times"], ns["i_ex"]
    assert ids.tolist() == [0, 1] and i_ex.shape == (times.size, 2)
    assert times[0] == pytest.approx(101.0) and np.allclose(np.diff(times), 1.0)   # sampled every 1 ms after 100
    with h5py.File(tmp_path / "results" / "my_net.h5", "r") as f:
        assert len(f.keys()) > 0
    t = more.spikes("E")[1]
    assert t.size > 0 and t.min() > 1000.0 and t.max() <= 2000.0   # the restart continues at 1000 ms


@pytest.mark.parametrize("index", range(1, len(RUNNABLE)))
def test_other_examples_run(index, tmp_path, monkeypatch):
    ns = _run(RUNNABLE[index], tmp_path, monkeypatch)
    net = ns.get("net")
    if net is not None:   # a network the example built must also simulate
        from distsnn.build.long_term import network_has_stdp
        from distsnn.runtime import simulate
        net.record_spikes(next(iter(net.populations)))
        simulate(net, 20.0, progress=False, connectivity="stored" if network_has_stdp(net) else "procedural")
