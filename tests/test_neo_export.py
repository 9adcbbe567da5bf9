"""Neo export of a selection of a spike file and its state reports (NIX and pickle), read
back with Neo."""
import numpy as np
import pytest

from distsnn.cli import main
from distsnn.io import read_report, read_spikes
from distsnn.io.neo_export import parse_selection

neo = pytest.importorskip("neo")


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("neo") / "run.h5"
    assert main(["run", "microcircuit", "--scale", "0.02", "--t-sim", "200", "--no-progress", "--output", str(path),
                 "--record", "3", "--record-from", "V_m,I_syn_ex"]) == 0
    return path


def test_selection_parsing():
    sizes = {"A": 10, "B": 5}
    assert {k: list(v) for k, v in parse_selection("3", sizes).items()} == {"A": [0, 1, 2], "B": [0, 1, 2]}
    assert list(parse_selection("A:2-4,A:7", sizes)["A"]) == [2, 3, 4, 7]
    with pytest.raises(ValueError, match="unknown population 'C'"):
        parse_selection("C:1", sizes)
    with pytest.raises(ValueError, match=r"outside \[0, 5\) of B"):
        parse_selection("B:3-5", sizes)


@pytest.mark.parametrize("fmt,suffix", [("pickle", "pkl"), ("nix", "nix")])
def test_export_round_trip(run_file, tmp_path, fmt, suffix, capsys):
    if fmt == "nix":
        pytest.importorskip("nixio")
    out = tmp_path / f"sel.{suffix}"
    assert main(["export", str(run_file), "--format", fmt, "--neurons", "L4E:0-19,L5I:0-4", "--output", str(out)]) == 0
    # the state reports beside the file: of the selected neurons, those recorded (L4E 0-2, L5I 0-2)
    assert "wrote 25 spike trains and 4 analog signals" in capsys.readouterr().out
    io = neo.io.PickleIO(str(out)) if fmt == "pickle" else neo.io.NixIO(str(out), mode="ro")
    block = io.read_block()
    if fmt == "nix":
        io.close()
    trains = {(st.annotations["population"], int(st.annotations["node_id"])): st for st in block.segments[0].spiketrains}
    assert len(trains) == 25
    spikes = read_spikes(str(run_file))
    for pop, ids in (("L4E", range(20)), ("L5I", range(5))):
        node, t = spikes[pop]
        for i in ids:
            assert np.allclose(trains[(pop, i)].rescale("ms").magnitude, t[node == i])
            assert float(trains[(pop, i)].t_stop.rescale("ms")) == pytest.approx(200.0)
    signals = {(a.annotations["population"], a.annotations["variable"]): a for a in block.segments[0].analogsignals}
    assert sorted(signals) == [("L4E", "I_syn_ex"), ("L4E", "V_m"), ("L5I", "I_syn_ex"), ("L5I", "V_m")]
    for (pop, var), sig in signals.items():
        ids, times, data = read_report(str(run_file.parent / f"run_{'voltage' if var == 'V_m' else var}.h5"))[pop]
        assert list(sig.array_annotations["node_id"]) == list(ids) == [0, 1, 2]
        assert np.array_equal(sig.magnitude, data) and str(sig.units.dimensionality) == ("mV" if var == "V_m" else "pA")
        assert float(sig.t_start.rescale("ms")) == pytest.approx(times[0])
        assert float(sig.sampling_period.rescale("ms")) == pytest.approx(0.1)


def test_export_without_reports(run_file, tmp_path, capsys):
    out = tmp_path / "spikes_only.pkl"   # the format from the extension
    assert main(["export", str(run_file), "--neurons", "2", "--no-reports", "--output", str(out)]) == 0
    said = capsys.readouterr().out
    assert "wrote 16 spike trains to" in said and "(pickle)" in said
    assert len(neo.io.PickleIO(str(out)).read_block().segments[0].analogsignals) == 0


def test_export_format_against_the_extension(run_file, tmp_path, capsys):
    """A format that contradicts the output's extension is refused before anything is read;
    without --format, .pkl and .pickle mean pickle, anything else nix."""
    assert main(["export", str(run_file), "--format", "nix", "--output", str(tmp_path / "sel.pkl")]) == 2
    assert "--format nix but --output " in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
    from distsnn.cli import _export_format
    assert [_export_format(None, name) for name in ("a.PKL", "a.pickle", "a.nix", "a.neo")] == \
           ["pickle", "pickle", "nix", "nix"]
    assert _export_format("pickle", "a.neo") == "pickle"
