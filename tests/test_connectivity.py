"""Connectivity: exact totals, the multinomial / binomial laws, moments, numba == NumPy spec."""
import numpy as np
import pytest
from scipy import stats

from distsnn.backends.cpu.connectivity_kernels import gen_row, row_targets
from distsnn.backends.cpu.simulator import CpuSimulator, compute_counts
from distsnn.build import make_plan
from distsnn.build import plan as bp
from distsnn.build.count_layout import cells_of
from distsnn.connectivity import expand_projection, projection_counts, row
from distsnn.model import (AllToAll, FixedIndegree, FixedOutdegree, FixedProbability, FixedTotalNumber, Network, Normal,
                           OneToOne)
from distsnn.rng.permutation import half_bits, permute, round_keys


def two_pops(n_pre, n_post, chunk=64):
    net = Network(dt=0.1, chunk_size=chunk)
    net.add_population("pre", n_pre)
    net.add_population("post", n_post)
    return net


def test_fixed_total_number_counts_exact_and_multinomial():
    net = two_pops(300, 1000, chunk=128)   # 8 chunks, the last one shorter (104)
    net.connect("pre", "post", FixedTotalNumber(200000), 1.0, 1.0)
    plan = make_plan(net, seed=3)
    ref = projection_counts(plan, 0)
    got = cells_of(plan, compute_counts(plan), 0).reshape(ref.shape)
    assert np.array_equal(got, ref)                       # numba kernel == NumPy spec
    assert int(ref.sum()) == 200000                       # exact total
    # chunk totals ~ multinomial with p proportional to chunk length
    lens = np.minimum(128, 1000 - 128 * np.arange(8))
    exp = 200000 * lens / 1000
    assert stats.chisquare(ref.sum(axis=0), exp).pvalue > 1e-3
    # per-pre totals ~ multinomial, uniform over pre
    assert stats.chisquare(ref.sum(axis=1)).pvalue > 1e-3
    # single-cell counts ~ binomial(N, len_c / (n_pre * n_post)) in the first chunk
    cells = ref[:, 0]
    p = 128 / (300 * 1000)
    k = np.arange(cells.max() + 1)
    obs = np.bincount(cells, minlength=k.size)
    pmf = stats.binom.pmf(k, 200000, p)
    sel = pmf * 300 > 5
    obs_pool = np.append(obs[sel], 300 - obs[sel].sum())
    exp_pool = np.append(pmf[sel] * 300, 300 - (pmf[sel] * 300).sum())
    assert stats.chisquare(obs_pool, exp_pool).pvalue > 1e-3


@pytest.mark.parametrize("n_out", [37, 600])   # within one block of the counting kernel, and over several
def test_fixed_outdegree_exact_per_neuron(n_out):
    net = two_pops(200, 500, chunk=100)
    net.connect("pre", "post", FixedOutdegree(n_out), 1.0, 1.0)
    plan = make_plan(net, seed=9)
    ref = projection_counts(plan, 0)
    got = cells_of(plan, compute_counts(plan), 0).reshape(ref.shape)
    assert np.array_equal(got, ref)
    assert np.all(ref.sum(axis=1) == n_out)
    assert stats.chisquare(ref.sum(axis=0)).pvalue > 1e-3


@pytest.mark.parametrize("domain", [1, 2, 3, 200, 255, 256, 257, 4097, 100003])
def test_slot_permutation_is_a_bijection_and_numba_matches_the_spec(domain):
    from distsnn.backends.cpu import rng_kernels as rk
    from distsnn.backends.cpu.connectivity_kernels import perm_tag
    keys = round_keys(5, 0x1234567, 11, 22)
    x = np.arange(domain, dtype=np.uint64)
    y = permute(x, domain, keys)
    assert np.array_equal(np.sort(y), x)
    assert domain < 8 or np.mean(y == x) < 0.05                 # not the identity
    nb_keys = rk.perm_keys(5, perm_tag(0x1234567), 11, 22)
    assert tuple(int(k) for k in nb_keys) == keys
    lbits, rbits = rk.half_bits(domain)
    assert (lbits, rbits) == half_bits(domain)
    sample = x[:: max(1, domain // 500)]
    assert [int(rk.permute(v, domain, nb_keys, lbits, rbits)) for v in sample] == [int(v) for v in y[sample.astype(int)]]


@pytest.mark.parametrize("domain", [3, 257, 4097, 100003, 131072, 1126400])
def test_block_permutation_equals_the_spec(domain):
    """permute_range (the row generator's vectorised passes) gives the spec's values for
    ranges of every length at several offsets: rows with no value outside the network's
    domain, with a few (walked one by one) and with many (walked in gathered passes)."""
    from distsnn.backends.cpu import rng_kernels as rk
    from distsnn.backends.cpu.connectivity_kernels import perm_tag
    keys = round_keys(2, 0x7654321, 3, 4)
    nb_keys = rk.perm_keys(2, perm_tag(0x7654321), 3, 4)
    lbits, rbits = rk.half_bits(domain)
    out, vals, idx = (np.full(domain, -1, dtype=np.int64) for _ in range(3))
    lengths = [n for n in (0, 1, 2, 7, 8, 9, 31, 100, 1000, domain) if n <= domain]
    for n in lengths:
        for start in {0, (domain - n) // 2, domain - n}:
            rk.permute_range(start, n, domain, nb_keys, lbits, rbits, out, vals, idx)
            ref = permute(np.arange(start, start + n, dtype=np.uint64), domain, keys).astype(np.int64)
            assert np.array_equal(out[:n], ref), (n, start)


# a row within one counting block, over several, and running sums past 16 bits (700 x 100)
@pytest.mark.parametrize("k_in", [37, 300, 700])
def test_fixed_indegree_exact_per_neuron_and_uniform_sources(k_in):
    net = two_pops(200, 500, chunk=100)
    net.connect("pre", "post", FixedIndegree(k_in), Normal(10.0, 1.0), Normal(1.5, 0.5))
    plan = make_plan(net, seed=9)
    assert plan.proj_i[0, bp.JI_COUNT_WIDE] == (k_in * 100 > 0xFFFF)   # the cells' width (count_layout)
    ref = projection_counts(plan, 0)                       # running sums, (n_pre + 1, chunks)
    got = cells_of(plan, compute_counts(plan), 0).reshape(ref.shape)
    assert np.array_equal(got, ref)                        # numba kernel == NumPy spec
    assert np.array_equal(ref[-1], k_in * np.full(5, 100))
    pre, post, w, _, d = expand_projection(plan, 0)
    assert np.all(np.bincount(post.astype(np.int64), minlength=500) == k_in)   # exact in-degree
    assert stats.chisquare(np.bincount(pre.astype(np.int64), minlength=200)).pvalue > 1e-3
    assert abs(w.mean() - 10.0) < 0.05 and abs(w.std() - 1.0) < 0.05
    # independent uniform sources per input: each (pre, post) pair's multiplicity is
    # Binomial(k_in, 1 / n_pre), also when the permutation decides which post gets which input
    mult = np.bincount((pre * 500 + post).astype(np.int64), minlength=200 * 500)
    top = 3 if k_in < 100 else 5
    obs = np.append(np.bincount(mult, minlength=top)[:top], (mult >= top).sum())
    pmf = stats.binom.pmf(np.arange(top), k_in, 1 / 200)
    exp = np.append(pmf, 1 - pmf.sum()) * mult.size
    assert stats.chisquare(obs, exp).pvalue > 1e-3
    # a source's targets inside a chunk are uniform over its posts (the permutation mixes)
    assert stats.chisquare(np.bincount((post % 100).astype(np.int64), minlength=100)).pvalue > 1e-3


def test_fixed_probability_rows_binomial():
    net = two_pops(400, 300, chunk=100)
    net.connect("pre", "post", FixedProbability(0.1), 1.0, 1.0)
    plan = make_plan(net, seed=11)
    pre, post, *_ = expand_projection(plan, 0)
    assert np.unique(pre * 300 + post).size == pre.size   # no multapses
    per_row = np.bincount(pre * 3 + post // 100, minlength=1200)
    k = np.arange(per_row.max() + 1)
    obs = np.bincount(per_row, minlength=k.size)
    pmf = stats.binom.pmf(k, 100, 0.1)
    sel = pmf * 1200 > 5
    obs_pool = np.append(obs[sel], 1200 - obs[sel].sum())
    exp_pool = np.append(pmf[sel] * 1200, 1200 - (pmf[sel] * 1200).sum())
    assert stats.chisquare(obs_pool, exp_pool).pvalue > 1e-3
    # targets uniform inside the chunks
    assert stats.chisquare(np.bincount(post, minlength=300)).pvalue > 1e-3



@pytest.mark.parametrize("p", [1e-7, 0.004, 0.3, 0.97, 1.0])
@pytest.mark.parametrize("weights", [(Normal(-3.0, 1.0), Normal(1.5, 0.4)), (2.0, 1.0)])
def test_fixed_probability_rows_equal_the_spec(p, weights):
    """The numba rows (skips drawn in blocks and added up after) are the spec's cumulative sum,
    synapse for synapse: rows longer and shorter than the first block, empty and full rows,
    the short last chunk (190 = 2 * 64 + 62), weights drawn and constant."""
    net = two_pops(300, 190, chunk=64)
    net.connect("pre", "post", FixedProbability(p), *weights)
    plan = make_plan(net, seed=3)
    width = plan.chunk_size
    out_t, out_w, out_d = (np.full(width, -7, dtype=np.int64) for _ in range(3))
    only_t = np.full(width, -7, dtype=np.int64)
    lengths = []
    for pre in range(300):
        for chunk in range(3):
            tgt, _, w_int, d = row(plan, 0, pre, chunk)
            args = (0, pre, chunk, plan.proj_f, plan.proj_i, np.zeros(1, np.uint32), plan.chunk_size, plan.key0,
                    plan.key1)
            n = gen_row(*args, plan.dt, out_t, out_w, out_d)
            assert n == tgt.size
            assert np.array_equal(out_t[:n] + chunk * 64, tgt)
            assert np.array_equal(out_w[:n], w_int) and np.array_equal(out_d[:n], d)
            assert row_targets(*args, only_t) == n and np.array_equal(only_t[:n], out_t[:n])
            lengths.append(n)
    lengths = np.array(lengths)
    if p == 1.0:
        assert np.array_equal(lengths, np.tile([64, 64, 62], 300))
    assert lengths.mean() == pytest.approx(p * 190 / 3, rel=0.05, abs=0.01)

def test_weight_and_delay_moments():
    net = two_pops(200, 200, chunk=200)
    net.connect("pre", "post", FixedTotalNumber(100000), Normal(50.0, 5.0), Normal(2.0, 0.3))
    net.connect("post", "pre", FixedTotalNumber(100000), Normal(-20.0, 15.0), Normal(0.3, 0.5))
    plan = make_plan(net, seed=5)
    j_exc = [j for j in range(2) if plan.proj_f[j, bp.JF_WMEAN] > 0][0]
    _, _, w, w_int, d = expand_projection(plan, j_exc)
    assert abs(w.mean() - 50.0) < 0.1 and abs(w.std() - 5.0) < 0.1
    scale = plan.proj_f[j_exc, bp.JF_SCALE]
    assert np.all(np.abs(w_int / scale - w) <= 0.5 / scale)   # fixed point: round to nearest
    assert abs(d.mean() * 0.1 - 2.0) < 0.01 and abs(d.std() * 0.1 - np.sqrt(0.3 ** 2 + 0.1 ** 2 / 12)) < 0.01
    # inhibitory, heavily clipped: weights keep their sign, delays are clipped at dt
    _, _, w, _, d = expand_projection(plan, 1 - j_exc)
    assert w.max() <= 0.0 and (w == 0).mean() == pytest.approx(stats.norm.sf(20 / 15), abs=0.01)
    assert d.min() == 1
    assert (d == 1).mean() == pytest.approx(stats.norm.cdf((0.15 - 0.3) / 0.5), abs=0.01)


def test_one_to_one_and_all_to_all():
    net = two_pops(150, 150, chunk=64)
    net.connect("pre", "post", OneToOne(), 2.0, 1.0)
    net.connect("post", "pre", AllToAll(), 3.0, 1.0)
    plan = make_plan(net, seed=1)
    for j in range(2):
        pre, post, *_ = expand_projection(plan, j)
        if plan.proj_i[j, bp.JI_RULE] == bp.RULE_O2O:
            assert np.array_equal(pre, post) and np.array_equal(np.sort(pre), np.arange(150))
        else:
            assert np.array_equal(np.sort(pre * 150 + post), np.arange(150 * 150))


def _csr_synapses(sim):
    """Decode the stored CSR into sorted (pre gid, post gid, receptor, w_int, delay) rows."""
    plan = sim.plan
    U = plan.units.shape[0]
    lens = np.diff(sim.ptr)
    cell = np.repeat(np.arange(lens.size), lens)
    gid, u = cell // U, cell % U
    post = plan.units[u, bp.UI_GID_START] + (sim.syn_loc >> 1)
    rows = np.stack([gid, post, sim.syn_loc & 1, sim.syn_w, sim.syn_d], axis=1)
    return rows[np.lexsort(rows.T[::-1])]


def test_stored_csr_equals_numpy_reference_for_every_rule():
    net = Network(dt=0.1, chunk_size=50)
    for name, n in (("a", 120), ("b", 130), ("c", 120)):
        net.add_population(name, n)
    net.connect("a", "b", FixedTotalNumber(3000), Normal(10.0, 2.0), Normal(1.5, 0.7))
    net.connect("b", "a", FixedProbability(0.05), Normal(-30.0, 3.0), 0.8)
    net.connect("a", "c", OneToOne(), 4.0, Normal(1.0, 0.2))
    net.connect("c", "b", FixedOutdegree(20), 5.0, 2.0)
    net.connect("c", "c", AllToAll(), Normal(1.0, 0.5), Normal(3.0, 1.0), label="recurrent")
    net.connect("c", "c", FixedProbability(1.0), -2.0, 0.5, label="full")
    net.connect("b", "c", FixedIndegree(15), Normal(-8.0, 2.0), Normal(1.2, 0.4))
    plan = make_plan(net, seed=77)
    sim = CpuSimulator(plan, "stored").build()
    ref = reference_synapses(plan)
    got = _csr_synapses(sim)
    assert got.shape == ref.shape and np.array_equal(got, ref)


def reference_synapses(plan):
    """Every synapse of the plan's rules by the NumPy specification, as _csr_synapses gives
    the stored CSR's: sorted (pre gid, post gid, receptor, w_int, delay) rows."""
    ref = []
    for j in range(plan.proj_i.shape[0]):
        pre, post, _, w_int, d = expand_projection(plan, j)
        pi = plan.proj_i[j]
        ref.append(np.stack([pre + pi[bp.JI_PRE_OFF], post + pi[bp.JI_POST_OFF],
                             np.full(pre.size, pi[bp.JI_REC]), w_int, d], axis=1).astype(np.int64))
    ref = np.concatenate(ref)
    return ref[np.lexsort(ref.T[::-1])]


def test_ring_slot_wraps_like_modulo_and_every_delay_fits_the_ring():
    """Delivery finds a synapse's slot as slot0 + d minus ring_len at most once (no division
    per event): exact when 0 <= slot0 < ring_len and 1 <= d <= ring_len - 1, which every
    drawn delay satisfies, the extreme draws of a wide delay distribution included."""
    from distsnn.backends.cpu.delivery_kernels import wrap_slot
    for L in (2, 3, 17):
        for slot0 in range(L):
            for d in range(1, L):
                assert wrap_slot(slot0, d, L) == (slot0 + d) % L
    net = Network(dt=0.1, chunk_size=64)
    net.add_population("a", 300)
    net.connect("a", "a", FixedTotalNumber(200000), 1.0, Normal(2.0, 3.0))   # many clipped at dt, long tail
    plan = make_plan(net, 7)
    _, _, _, _, d = expand_projection(plan, 0, cells_of(plan, plan.counts, 0))
    assert d.min() == 1 and d.max() <= plan.ring_len - 1 == plan.max_delay_steps
    assert d.max() > 150                                                     # the tail is really drawn
