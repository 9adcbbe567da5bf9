"""Layout of Philox counters: which model identity feeds which counter word.

Every random number is a pure function of (seed, counter). The key is the seed; the top
4 bits of counter word 3 hold a domain tag and its low 28 bits an identity inside that domain
(a projection id, an input index). Nothing here depends on ranks, threads or devices.

  domain      c0                 c1          c2            c3 (low 28 bits)
  SYN         synapse k in row   post chunk  pre index     projection id
              (synapse list: i lo  i hi        0             projection id: synapse i's drawn values)
  COUNT       draw index lo      draw hi     pre (outdeg)  projection id
                                    chunk (indeg)
  NOISE       step lo            step hi     gid >> 2      input index << 16 | part (word gid & 3)
  INIT        variable index     0           neuron gid    0
  PERM        post chunk         0           0             projection id (fixed_indegree round keys)
  CURRENT     interval lo        interval hi gid >> 1      noise input index (noise currents:
                                                           words 0, 1 -> Box-Muller -> z of the
                                                           even gid, the odd one's)
  SOURCE      step lo            step hi     gid >> 2      0 (Poisson sources: word gid & 3
                                                           against the spike threshold)
              step lo            step hi     first gid of  1 (a MIP source's parent process:
                                             its population  word 0 against its threshold)
              spike pair         pulse       gid           2 (pulse packets: Box-Muller of
                                                           words 0, 1 -> the pair's times)
  REDRAW      the synapse's SYN c0, c1, c2, then        projection id (a value drawn again
              block b's words 0..2 for block b + 1      below its bound: rng.redraw)
"""
import hashlib

from ..numbers import is_integer, shown

DOM_SYN = 1
DOM_COUNT = 2
DOM_NOISE = 3
DOM_INIT = 4
DOM_PERM = 5
DOM_CURRENT = 6
DOM_SOURCE = 7
DOM_REDRAW = 8
DOMAIN_SHIFT = 28
ID_MASK = (1 << DOMAIN_SHIFT) - 1

INIT_VAR_V_M = 0    # the initial membrane potential (v_init)
INIT_VAR_V_TH = 1   # a threshold drawn per neuron (V_th a Normal or Uniform)
# izhikevich's a, b, c, d drawn per neuron
INIT_VAR_IZHIKEVICH = {"a": 2, "b": 3, "c": 4, "d": 5}
# every parameter that may be drawn per neuron (build.param_rows.row_params): a variable each,
# fixed here once for all (a neuron has one model, so the AdEx a and b share izhikevich's)
INIT_VAR_PARAM = dict(INIT_VAR_IZHIKEVICH, **{name: 6 + i for i, name in enumerate((
    "C_m", "tau_m", "t_ref", "V_reset", "tau_syn_ex", "tau_syn_in", "g_L", "E_ex", "E_in", "Delta_T", "tau_w",
    "V_peak", "V_min", "E_L", "U_m"))})


def key_from_seed(seed):
    """Split a seed in [0, 2**64) into the two Philox key words (lo, hi)."""
    if not is_integer(seed) or not 0 <= seed < 2 ** 64:
        raise ValueError(f"seed: must be an integer in [0, 2**64), got {shown(seed)}")
    seed = int(seed)
    return seed & 0xFFFFFFFF, seed >> 32


def tag(domain, ident):
    """Counter word 3 for a domain and an identity of at most 28 bits."""
    if not 0 <= ident <= ID_MASK:
        raise ValueError(f"stream identity {ident} does not fit in 28 bits")
    return (domain << DOMAIN_SHIFT) | ident


def retag(word, domain):
    """Counter word 3 of another domain for the same identity (e.g. a projection's COUNT or
    PERM word from its SYN word)."""
    return (int(word) & ID_MASK) | (domain << DOMAIN_SHIFT)


def projection_id(source, target, label):
    """Stable 28-bit id of a projection from its model identity (not its creation order)."""
    digest = hashlib.sha256(f"{source}\x1f{target}\x1f{label}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & ID_MASK
