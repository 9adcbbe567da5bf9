#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and CuPy (e.g. a lent device machine, whose image has
# CuPy, numba, h5py and pytest): the GPU test suite, then the GPU benchmark. Writes
# gpu_tests_<device>_<date>.log and the benchmark's JSON/Markdown to OUT (default
# bench/results). Uses the python on the PATH (PYTHON=...) with this checkout on
# PYTHONPATH; installs nothing. T_SIM: biological time of the benchmark (ms, default 10000).
# STAGES: which parts to run, for device calls with a time limit (default "tests bench"):
# "tests" (GPU tests, sanitizer, MPI), "bench" (all benchmarks) or single benchmarks
# "microcircuit" (the GPU benchmark, tuned runs included), "microcircuit_clip" (one run with
# delays clipped, the redraw's cost), "profile" (each kernel's time and
# stall reasons, Nsight Compute, separate launches and the step loop), "profile_mam" (the same
# for the full-scale multi-area model),
# "multi_area" (the full-scale multi-area model for 1 s: build, simulate and write timed, its
# activity against the references; DISTSNN_DATA must point at the shared data),
# "multi_area_10s" (the same for the references' 10.5 s, delays redrawn, checkpointed),
# "primitives" (a dependent load's latency and scattered atomics' rate, in the L2 and DRAM),
# "delivery" (the microcircuit's delivery launched alone with 1 to 1,000 of its own spikes: a
# fixed cost per launch and a cost per event, by mode, team and grid),
# "rules" (each connection rule's cost, fixed_probability's warp-wide rows among them),
# "windows" (what an exchange window costs: two ranks sharing the device, an exchange after
# every step, as the multi-area model's), "adex", "izhikevich", "sonata", "sweep" (Brunel's
# phase diagram by distsnn sweep on the device), "stdp" (the full-scale microcircuit with STDP
# between its excitatory populations, against static synapses), "hpc" (NEST's HPC benchmark
# network, power-law STDP, at scales 1 and 4).
set -uo pipefail
STAGES=" ${STAGES:-tests bench} "
want() { [[ "$STAGES" == *" $1 "* || ( "$1" != tests && "$STAGES" == *" bench "* ) ]]; }
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${OUT:-bench/results}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 PY_COLORS=0
device=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1 | tr -c 'A-Za-z0-9\n' '_' | tr 'A-Z' 'a-z')
log="$OUT/gpu_tests_${device:-unknown}_$(date -u +%F).log"
status=0
if want tests; then
    {
        echo "# $(date -u +%FT%TZ) $(hostname)"
        nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
        "$PY" -c "import cupy, numpy, numba; print('cupy', cupy.__version__, 'numpy', numpy.__version__, 'numba', numba.__version__)"
        # the real-device tests, then the emulated-device and compile tests on the same machine
        "$PY" -m pytest -q -rs -p no:cacheprovider tests/test_gpu_device.py tests/test_gpu_emulated.py \
            tests/test_gpu_kernels.py tests/test_backend_select.py tests/test_gpu_stdp.py
        # out-of-bounds accesses and races in every kernel, on a small run of each mode
        if command -v compute-sanitizer >/dev/null; then
            for tool in memcheck racecheck; do
                for mode in procedural stored; do
                    for loop in 0 1; do   # separate launches, and the step loop
                        echo "compute-sanitizer --tool $tool, $mode, step loop $loop:"
                        DISTSNN_CUDA_GRAPHS=0 DISTSNN_GPU_STEP_LOOP=$loop compute-sanitizer --tool "$tool" \
                            --error-exitcode 9 "$PY" -m distsnn run microcircuit --scale 0.02 --t-sim 5 --backend gpu \
                            --connectivity "$mode" --no-progress --record 1 --record-from V_m,I_syn_ex,I_syn_in \
                            --output "/tmp/sanitize_$mode.h5" | tail -3
                    done
                done
                echo "compute-sanitizer --tool $tool, adex (the aeif_cond_exp kernel):"
                DISTSNN_CUDA_GRAPHS=0 compute-sanitizer --tool "$tool" --error-exitcode 9 "$PY" -m distsnn run adex \
                    --scale 0.02 --t-sim 5 --backend gpu --no-progress --record 1 --record-from V_m,w,g_ex \
                    --output /tmp/sanitize_adex.h5 | tail -3
            done
        fi
        # two ranks sharing the device, where MPI works here
        if command -v mpiexec >/dev/null && "$PY" -c "from mpi4py import MPI" 2>/dev/null; then
            # (Open MPI as root needs these; MPICH ignores them)
            OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
                mpiexec -n 2 "$PY" -m mpi4py -m pytest -q -rs -p no:cacheprovider --with-mpi \
                -m "gpu or mpi" tests/test_mpi_gpu.py || echo "MPI GPU tests failed"
        else
            echo "MPI not usable here: MPI GPU tests not run"
        fi
    } 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
fi
if want microcircuit; then
    "$PY" scripts/bench_gpu.py --t-sim "${T_SIM:-10000}" --out "$OUT" || status=1
fi
# the redraw's cost: delays clipped take the smaller rule variant (80 registers, no call)
if want microcircuit_clip; then
    "$PY" scripts/bench_gpu.py --t-sim "${T_SIM:-10000}" --delays clip --modes procedural --launches graphs \
        --out "$OUT" || status=1
fi
# where the microcircuit's step time goes: each kernel timed by Nsight Compute, where it is
# installed, with its stall reasons; then two launches of the step loop (500 steps each)
if want profile && command -v ncu >/dev/null; then
    "$PY" scripts/profile_gpu.py --out "$OUT" || status=1
    "$PY" scripts/profile_gpu.py --step-loop --launch-skip 1 --launch-count 2 --out "$OUT" || status=1
fi
# the same for the full-scale multi-area model's steps (a build of about a minute first)
if want profile_mam && command -v ncu >/dev/null; then
    "$PY" scripts/profile_gpu.py --model multi_area --t-sim 20 --kernels '^(neuron_update|deliver)' \
        --launch-skip 100 --launch-count 40 --out "$OUT" || status=1
fi
# the full-scale multi-area model for a biological second: the build (its input bound on
# the device since 2026-11-22; 56 s before, on 16 host cores), the step and the write
if want multi_area; then
    "$PY" scripts/bench_multi_area.py --backend gpu --scale 1 --t-sim 1000 --work /tmp/mam_gpu --out "$OUT" \
        || status=1
fi
# the references' 10.5 s of the full model with delays redrawn (the model's rule): its activity
# against NEST's and GeNN's, the CPU's days-long run in minutes. A second call with the same
# stage resumes it from its checkpoint if the first ran out of time on a still-warm machine
if want multi_area_10s; then
    "$PY" scripts/bench_multi_area.py --backend gpu --scale 1 --work /tmp/mam_gpu --out "$OUT" \
        --checkpoint-every 3500 || status=1
fi
# the memory primitives a step is made of, measured alone: a link of a chain of loads, and
# the ring buffers' atomics (does a cost per event explain 4e9 events per second?)
if want primitives; then
    "$PY" scripts/bench_gpu_primitives.py --out "$OUT" || status=1
fi
# delivery alone, against the spikes it delivers: is a step's delivery time a fixed cost per
# launch (chains of loads, the launch's tail) or a cost per event (atomics, arithmetic)?
if want delivery; then
    "$PY" scripts/bench_gpu_delivery.py --teams 64,32,16 --blocks-per-sm 8,6,4 --out "$OUT" || status=1
fi
# an exchange window alone (flush, MPI, upload of the received spikes, their delivery): two
# ranks sharing the device, then the CPU engine's ranks for comparison
if want windows; then
    for backend in gpu cpu; do
        OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
            mpiexec -n 2 "$PY" scripts/bench_gpu_windows.py --backend $backend --steps 20000 --out "$OUT" || status=1
    done
fi
# what each connection rule costs on the GPU, with the same in-degree (40,000 neurons, 1.6e8 synapses)
if want rules; then
    "$PY" scripts/bench_rules.py --backend gpu --n 40000 --k 4000 --t-sim 1000 --out "$OUT" || status=1
fi
# the AdEx network (aeif_cond_exp's adaptive solver) on the GPU: cost per neuron update
if want adex; then
    "$PY" scripts/bench_adex.py --backend gpu --seeds 2 --out-dir "$OUT" || status=1
fi
# a SONATA circuit of 50,000 + 5,000 virtual nodes and 50 million edges (synapse lists) on the GPU
if want sonata; then
    "$PY" scripts/bench_sonata.py --backend gpu --n-v1 50000 --n-lgn 5000 --p 0.02 --k-lgn 100 --t-stop 1000 \
        --work /tmp/sonata_gpu --out-dir "$OUT" || status=1
fi
# a sweep of many short runs (Brunel's phase diagram, 12 points of 0.5 s): what each point's
# start (device, kernels, build) costs against its run, one process and two ranks sharing the
# device; bench/results/sweep_brunel_scale1_*.md has the CPU's and NEST's figures
if want sweep; then
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
        "$PY" scripts/bench_sweep.py --backend gpu --out-dir "$OUT" || status=1
fi
# STDP's cost on the GPU: the full-scale microcircuit's excitatory projections plastic, 1 s,
# against static synapses (stored connectivity both)
if want stdp; then
    "$PY" scripts/bench_stdp.py --scale 1 --t-sim 1000 --backends gpu --out-dir "$OUT" || status=1
fi
# NEST's HPC benchmark network (power-law STDP between 9,000 scale E neurons, 11,250 inputs per
# neuron): on the CPU (2 cores, 2026-11-25) 35.7 s per biological second at scale 1, NEST 3.10 34.4
if want hpc; then
    for scale in 1 4; do
        "$PY" scripts/bench_hpc.py --scale $scale --t-sim 300 --backends gpu --out-dir "$OUT" || status=1
    done
fi
# the Izhikevich network (izhikevich neurons, noise currents) on the GPU
if want izhikevich; then
    "$PY" scripts/bench_izhikevich.py --backend gpu --seeds 2 --out-dir "$OUT" || status=1
fi
exit $status
