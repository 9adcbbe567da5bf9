"""`distsnn run my_model.py`: a model of one's own through the whole command line (options,
recording, ranks, partition), the same spikes as the Python interface, and clear errors for
files that cannot serve."""
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from distsnn.io import read_report, read_spikes
from distsnn.model import STDP
from distsnn.models.from_file import build_from_file
from distsnn.runtime import simulate

MODEL = textwrap.dedent('''
    from distsnn.model import FixedIndegree, Network, Normal

    def build(scale=1.0, g=5.0):
        net = Network(dt=0.1, name="mine")
        n = max(4, int(400 * scale))
        net.add_population("E", n, v_init=Normal(-60.0, 4.0))
        net.add_population("I", n // 4)
        net.connect("E", "E", FixedIndegree(40), 60.0, 1.5)
        net.connect("E", "I", FixedIndegree(40), 60.0, 1.0)
        net.connect("I", "E", FixedIndegree(10), -60.0 * g, 0.8)
        net.add_poisson_input("E", indegree=800, rate=10.0, weight=60.0, delay=1.5)
        net.add_poisson_input("I", indegree=800, rate=10.0, weight=60.0, delay=1.5)
        net.metadata["g"] = g
        return net
    ''')


def run(*args, cwd, ranks=1):
    cmd = [sys.executable, "-m", "distsnn", *args]
    if ranks > 1:
        mpiexec = shutil.which("mpiexec", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("mpiexec")
        if mpiexec is None:
            pytest.skip("no mpiexec")
        cmd = [mpiexec, "-n", str(ranks)] + cmd
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(MODEL)
    return path


def test_a_model_file_runs_as_the_python_interface_does(model, tmp_path):
    proc = run("run", str(model), "--scale", "0.5", "--g", "4", "--t-sim", "100", "--record", "3", "--no-progress",
               "--backend", "cpu", "--output", "out/a.h5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "mine.py: 250 neurons" in proc.stdout
    net = build_from_file(str(model), scale=0.5, g=4.0)
    assert net.metadata["g"] == 4.0 and set(net.spike_records) == {"E", "I"}   # all spikes, recorded for it
    res = simulate(net, 100.0, seed=1, backend="cpu", progress=False)
    spikes = read_spikes(str(tmp_path / "out" / "a.h5"))
    assert sum(spikes[p][0].size for p in spikes) > 100
    for pop in ("E", "I"):
        ids, times = res.spikes(pop)
        assert np.array_equal(spikes[pop][0], ids) and np.allclose(spikes[pop][1], times)
    report = read_report(str(tmp_path / "out" / "a_voltage.h5"))   # --record without record_voltage in build
    assert sorted(report) == ["E", "I"] and report["E"][0].tolist() == [0, 1, 2]


def test_a_model_file_under_mpi_and_partition(model, tmp_path):
    one = run("run", str(model), "--t-sim", "60", "--no-progress", "--output", "one.h5", cwd=tmp_path)
    two = run("run", str(model), "--t-sim", "60", "--no-progress", "--output", "two.h5", cwd=tmp_path, ranks=2)
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    a, b = read_spikes(str(tmp_path / "one.h5")), read_spikes(str(tmp_path / "two.h5"))
    assert all(np.array_equal(a[p][0], b[p][0]) and np.array_equal(a[p][1], b[p][1]) for p in ("E", "I"))
    part = run("partition", str(model), "--ranks", "2", cwd=tmp_path)
    assert part.returncode == 0 and "rank" in part.stdout, part.stderr


@pytest.mark.parametrize("text, args, message", [
    (None, [], r"model file '.*absent.py' does not exist"),
    ("x = 1\n", [], r"defines no build\(\) function"),
    ("def build(:\n", [], r"failed to load: SyntaxError"),
    ("def build():\n    return 3\n", [], re.escape("build() returned int, not a distsnn Network")),
    (MODEL, ["--eta", "2"], r"build\(\) does not take --eta"),
    ("from distsnn.model import Network\ndef build():\n    return Network()\n", ["--scale", "0.5"],
     re.escape("build() takes no scale, so --scale 0.5 cannot apply")),
])
def test_model_files_that_cannot_serve(tmp_path, text, args, message):
    name = "absent.py" if text is None else "bad.py"
    if text is not None:
        (tmp_path / name).write_text(text)
    proc = run("run", str(tmp_path / name), "--t-sim", "10", *args, cwd=tmp_path)
    assert proc.returncode == 2
    assert re.search(message, proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr


STDP_MODEL = MODEL.replace("from distsnn.model import FixedIndegree, Network, Normal",
                           "from distsnn.model import STDP, FixedIndegree, Network, Normal").replace(
    'net.connect("E", "E", FixedIndegree(40), 60.0, 1.5)',
    'net.connect("E", "E", FixedIndegree(40), 60.0, 1.5, stdp=STDP(Wmax=120.0, lambda_=0.02))')


@pytest.mark.parametrize("ranks", [1, 2])
def test_a_model_with_stdp_writes_its_learned_weights(tmp_path, ranks):
    """The run's STDP synapses, with the weights they ended with, in <output>_weights.h5 (all
    ranks' synapses); a network connected by that file has them."""
    from distsnn.connectivity.synapses import learned_synapses
    from distsnn.io.sonata_edges import read_edges
    model = tmp_path / "plastic.py"
    model.write_text(STDP_MODEL)
    proc = run("run", str(model), "--scale", "0.5", "--t-sim", "100", "--no-progress", "--backend", "cpu",
               "--connectivity", "stored", "--output", "p.h5", cwd=tmp_path, ranks=ranks)
    assert proc.returncode == 0, proc.stderr
    assert "STDP weights: p_weights.h5" in proc.stdout
    res = simulate(build_from_file(str(model), scale=0.5), 100.0, seed=1, backend="cpu", connectivity="stored",
                   progress=False)
    (edges,) = read_edges(str(tmp_path / "p_weights.h5"))
    (want,) = learned_synapses(res.plan, res.plastic)
    assert (edges["source"], edges["target"], edges["label"], edges["receptor"]) == ("E", "E", "stdp0", "excitatory")
    assert edges["stdp"] == STDP(Wmax=120.0, lambda_=0.02).validated("")
    for key in ("pre", "post", "weight", "delay"):
        assert np.array_equal(edges[key], getattr(want, key)), key
    assert edges["weight"].size == 200 * 40 and np.abs(edges["weight"] - 60.0).max() > 0.5
