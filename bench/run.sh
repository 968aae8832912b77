#!/bin/bash
# shellcheck disable=SC2086,SC2046  # $cflags and $libs: word lists, split on purpose
# run.sh — the benchmarks behind `make bench`: nnc against PyTorch, and
# against FANN 2.2.0 on workloads 1 and 2.
#
#   bench/run.sh NNC BUILD_DIR        e.g. bench/run.sh build/nnc build
#
# NNC is the compiler, BUILD_DIR the directory holding libnnrt.a; scratch
# files (generated C, binaries, raw results) go to BUILD_DIR/bench.  Writes
# bench/RESULTS.md, bench/results.tsv (every measurement) and
# bench/scaling.svg.  The workloads (bench/RESULTS.md explains each):
#   1 toy       examples/grades.nn, 10,000 steps: microseconds per step
#   2 fashion   the Fashion-MNIST MLP (bench/models/), sgd and adam: seconds
#               per epoch, test accuracy
#   3 infer     its batch-1 latency and batch-256 throughput: the training
#               build and `nnc build --infer-only --max-batch 256` with
#               CBLAS and with --no-blas (same weights, predictions checked)
#   4 compile   nnc check / nnc build on chains of dense layers; cc -O2 -c
#   5 memory    peak RSS of a Fashion training run (from workload 2)
#   6 scaling   time per step as the width and the batch grow
#   + sgemm     OpenBLAS alone at the GEMM shapes of a Fashion step
# nnc and PyTorch (when `/usr/bin/python3 -c 'import torch'` works) take
# turns: nnc, PyTorch, nnc, PyTorch..., and the report takes medians.
# FANN (the C library, floatfann; Debian's libfann-dev, which `make bench`
# installs when it can) takes its turn after them in workloads 1 and 2
# (bench/fann_toy.c, bench/fann_fashion.c: the nearest FANN configuration,
# explained there); without libfann the run goes on and says FANN was not
# measured.  FANN takes 15 to 30 s for a Fashion epoch, so it trains
# BENCH_FANN_EPOCHS (1) epoch(s) per round, and its test accuracy is after
# those, not after BENCH_ACC_EPOCHS.
#
# Environment (all optional):
#   BENCH_QUICK=1        smoke run: one round, one epoch, short timings
#   BENCH_ROUNDS=N       alternations per workload (default 3, quick 1)
#   BENCH_EPOCHS=N       epochs of a Fashion round without accuracy (default 2)
#   BENCH_ACCURACY=0|1   every Fashion round trains BENCH_ACC_EPOCHS
#                        (default 5) epochs and measures the test accuracy,
#                        one seed per round, so nnc and PyTorch are compared
#                        over as many seeds as rounds (default 1, quick 0:
#                        then the rounds train BENCH_EPOCHS epochs)
#   BENCH_CFLAGS         flags for the generated C and drivers (default: the
#                        flags nnc train uses, -O3 -march=native -fno-math-errno)
#   BENCH_DATA           Fashion-MNIST directory
#                        (default /usr/share/datasets/fashion-mnist)
#   BENCH_TORCH=0        skip PyTorch even if it is installed
#   BENCH_FANN=0         skip FANN even if it is installed
#   BENCH_FANN_EPOCHS=N  epochs of FANN's Fashion timing rounds (default 1)
# The OpenBLAS environment (OPENBLAS_CORETYPE, OPENBLAS_NUM_THREADS,
# OMP_NUM_THREADS) is recorded and used as it is, but for one case: when
# OPENBLAS_CORETYPE is unset and OpenBLAS falls back to generic kernels on a
# CPU with AVX2 or AVX-512, it is set for the whole run (see below).
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 NNC BUILD_DIR" >&2
	exit 2
fi
started=$(date +%s)
nnc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
build=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work=$build/bench
rm -rf "$work"
mkdir -p "$work/gen" "$work/bin"
results=$work/results.tsv
meta=$work/meta.tsv
: >"$results"
: >"$meta"
: >"$work/commands.txt"

# ---- settings ----------------------------------------------------------------
quick=${BENCH_QUICK:-0}
if [ "$quick" = 1 ]; then
	rounds=${BENCH_ROUNDS:-1}
	epochs=${BENCH_EPOCHS:-1}
	accuracy=${BENCH_ACCURACY:-0}
	infer_calls1=2000 infer_calls256=50 compile_reps=3 scaling_seconds=0.05
	sgemm_seconds=0.01 probe_steps=40
else
	rounds=${BENCH_ROUNDS:-3}
	epochs=${BENCH_EPOCHS:-2}
	accuracy=${BENCH_ACCURACY:-1}
	infer_calls1=10000 infer_calls256=200 compile_reps=7 scaling_seconds=0.25
	sgemm_seconds=0.05 probe_steps=120
fi
acc_epochs=${BENCH_ACC_EPOCHS:-5}
fann_epochs=${BENCH_FANN_EPOCHS:-1}
toy_steps=10000
chain_layers="250 500 1000 2000"
widths="64 128 256 512 1024 2048 4096"
batches="1 4 16 64 256 1024"
cflags=${BENCH_CFLAGS:--O3 -march=native -fno-math-errno}
data=${BENCH_DATA:-/usr/share/datasets/fashion-mnist}
torchpy=/usr/bin/python3
# The report needs only the standard library: any python3 will do.
reportpy=$(command -v /usr/bin/python3 || command -v python3)

cc_c99() { cc $cflags -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -I"$root/runtime" "$@"; }
libs="$build/libnnrt.a $(pkg-config --libs openblas libcjson zlib) -lm"

note() { printf '[bench %4ds] %s\n' $(($(date +%s) - started)) "$*" >&2; }
# done_with NAME: records the seconds since the last call (or the start)
# as NAME's share of the run, so the budget of each workload is visible.
last_mark=$started
done_with() {
	local now
	now=$(date +%s)
	meta "time_$1" $((now - last_mark))
	last_mark=$now
}
meta() { printf '%s\t%s\n' "$1" "$2" >>"$meta"; }
# Runs a driver, appending its records to results.tsv, its stderr to the
# log and its command line to commands.txt (for RESULTS.md); stops the
# whole run if it fails.
run() {
	local arg line=""
	for arg in "$@"; do
		case $arg in
		*[!A-Za-z0-9_./:=,+-]*) arg="'$arg'" ;;
		esac
		line="$line${line:+ }${arg//$root\//}"
	done
	echo "$line" >>"$work/commands.txt"
	echo "\$ $line" >>"$work/log"
	if ! "$@" >>"$results" 2>>"$work/log"; then
		echo "bench/run.sh: failed: $line" >&2
		tail -n 20 "$work/log" >&2
		exit 1
	fi
}

have_torch=0
if [ "${BENCH_TORCH:-1}" != 0 ] && "$torchpy" -c 'import torch' 2>/dev/null; then
	have_torch=1
fi
have_data=0
if [ -r "$data/train-images-idx3-ubyte.gz" ] && [ -r "$data/t10k-labels-idx1-ubyte.gz" ]; then
	have_data=1
fi
# FANN: have_fann becomes 1 once its drivers are built; fann_why says why not.
have_fann=0
fann_why=""
if [ "${BENCH_FANN:-1}" = 0 ]; then
	fann_why="skipped (BENCH_FANN=0)"
elif ! pkg-config --exists fann 2>/dev/null; then
	fann_why="not installed (Debian package libfann-dev; \`make bench\` installs it when run as root)"
fi

# ---- the machine and the libraries ----------------------------------------
meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
meta quick "$quick"
meta bench_env "$(env | grep -E '^BENCH_[A-Z_]+=' | sort | tr '\n' ' ' | sed 's/ $//')"
meta commit "$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
meta nproc "$(nproc)"
meta cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
meta cpu_flags "$(grep -m1 -o -w -E 'avx512f|avx2|fma' /proc/cpuinfo | sort -u | tr '\n' ' ')"
meta loadavg "$(cut -d' ' -f1-3 /proc/loadavg)"
meta kernel "$(uname -sr)"
meta gcc "$(cc --version | head -1)"
meta openblas_packages "$(dpkg-query -W -f='${db:Status-Abbrev}${Package} ${Version}\n' 'libopenblas0*' 2>/dev/null |
	sed -n 's/^ii *//p' | paste -sd, - | sed 's/,/, /g')"
meta nnc_version "$("$nnc" --version 2>&1 | head -1)"
for v in OPENBLAS_CORETYPE OPENBLAS_NUM_THREADS OMP_NUM_THREADS; do
	meta "env_$v" "${!v-(unset)}"
done
meta cflags "$cflags"
meta rounds "$rounds"
meta epochs "$([ "$accuracy" = 1 ] && echo "$acc_epochs" || echo "$epochs")"
meta accuracy_epochs "$([ "$accuracy" = 1 ] && echo "$acc_epochs" || echo "$epochs")"
meta toy_steps "$toy_steps"
meta infer_calls "$infer_calls1 $infer_calls256"
meta compile_reps "$compile_reps"
meta scaling_seconds "$scaling_seconds"
meta have_torch "$have_torch"
meta have_data "$have_data"
meta data "$data"

# OpenBLAS on a CPU newer than its table falls back to generic (Prescott)
# kernels.  nnc's trainers then restart themselves with OPENBLAS_CORETYPE
# set (nnrt_blas_restart in runtime/gemm.c); the drivers here call the
# generated code directly, so the bench does the same for every contender,
# nnc, PyTorch and sgemm_rate alike, when the variable is unset.
mkdir -p "$work/bin"
cc_c99 -O2 $(pkg-config --cflags openblas) "$here/sgemm_rate.c" $libs \
	-o "$work/bin/sgemm_rate"
detected=$("$work/bin/sgemm_rate" --info | sed -n 's/^openblas_core\t//p')
meta openblas_core_detected "$detected"
if [ -z "${OPENBLAS_CORETYPE+set}" ]; then
	case $(echo "$detected" | tr '[:upper:]' '[:lower:]') in
	katmai|coppermine|northwood|prescott|banias|core2|penryn|dunnington|nehalem|atom|sandybridge)
		want=
		if grep -q -w avx512f /proc/cpuinfo && grep -q -w avx512bw /proc/cpuinfo &&
		   grep -q -w avx512dq /proc/cpuinfo && grep -q -w avx512vl /proc/cpuinfo; then
			want=SkylakeX
		elif grep -q -w avx2 /proc/cpuinfo && grep -q -w fma /proc/cpuinfo; then
			want=Haswell
		fi
		if [ -n "$want" ]; then
			export OPENBLAS_CORETYPE=$want
			meta openblas_coretype_set "$want"
		fi
		;;
	esac
fi
if [ "$have_torch" = 1 ]; then
	"$torchpy" - >>"$meta" <<'EOF'
import ctypes, re, torch
print(f"torch\t{torch.__version__}")
print(f"torch_default_threads\t{torch.get_num_threads()}")
# The BLAS that torch's process loaded, and what OpenBLAS made of the CPU.
maps = open("/proc/self/maps").read()
libs = sorted(set(re.findall(r"\S*lib(?:open)?blas[^/\s]*\.so[.\d]*", maps)))
print(f"torch_blas\t{' '.join(libs) or 'not found'}")
for lib in libs:
    if "openblas" in lib:
        blas = ctypes.CDLL(lib)
        blas.openblas_get_corename.restype = ctypes.c_char_p
        print(f"torch_openblas_core\t{blas.openblas_get_corename().decode()}")
        break
EOF
fi
meta python "$("$torchpy" --version 2>&1)"
[ -n "$fann_why" ] ||
	meta fann "$(pkg-config --modversion fann) ($(dpkg-query -W -f='${Package} ${Version}' libfann2 2>/dev/null || echo 'package unknown'))"

# ---- build everything ------------------------------------------------------
note "building the models and the drivers in $work"
gen=$work/gen
bin=$work/bin
cc_c99 -O2 "$here/timeit.c" "$build/libnnrt.a" -lm -o "$bin/timeit"
cc_c99 -O2 $(pkg-config --cflags openblas) "$here/sgemm_rate.c" $libs -o "$bin/sgemm_rate"
"$bin/sgemm_rate" --info >>"$meta"

# model NN_FILE DRIVER BINARY [NNC_OPTIONS...]: builds NN_FILE's model
# into gen/ and links DRIVER with it as BINARY (with -DINFER_ONLY when the
# options hold --infer-only).
model() {
	local nn=$1 driver=$2 out=$3 name opt infer_only=""
	shift 3
	name=$(sed -n 's/^model[[:space:]]*\([A-Za-z_0-9]*\).*/\1/p' "$nn" | head -1)
	for opt in "$@"; do
		[ "$opt" != --infer-only ] || infer_only=-DINFER_ONLY
	done
	mkdir -p "$gen/$out"
	"$nnc" build "$nn" -o "$gen/$out" "$@"
	cc_c99 -I"$gen/$out" -I"$here" -DMODEL="$name" $infer_only $model_cflags \
		-DMODEL_UPPER="$(echo "$name" | tr '[:lower:]' '[:upper:]')" \
		-include "$gen/$out/$name.h" "$driver" "$gen/$out/$name.c" $libs $model_ldflags \
		-o "$bin/$out"
}
model_ldflags=
model_cflags=
model "$root/examples/grades.nn" "$here/toy.c" toy
# FANN's drivers; fann_toy links the toy's generated C for nnc's initial
# weights.
fann_cc() { cc_c99 $(pkg-config --cflags fann) -I"$here" "$@" $libs -lfloatfann 2>>"$work/log"; }
if [ -n "$fann_why" ]; then
	:
elif ! fann_cc -I"$gen/toy" "$here/fann_toy.c" "$gen/toy/grades.c" -o "$bin/fann_toy"; then
	fann_why="compiling bench/fann_toy.c against libfann failed (see build/bench/log)"
elif [ "$have_data" = 1 ] && ! fann_cc "$here/fann_fashion.c" -o "$bin/fann_fashion"; then
	fann_why="compiling bench/fann_fashion.c against libfann failed (see build/bench/log)"
else
	have_fann=1
fi
meta have_fann "$have_fann"
meta fann_why "${fann_why:-}"
meta fann_epochs "$fann_epochs"
[ "$have_fann" = 1 ] || note "FANN not measured: $fann_why"
if [ "$have_data" = 1 ]; then
	for opt in sgd adam; do
		# bench/fashion.c times the GEMMs of each epoch through --wrap
		model_ldflags=-Wl,--wrap=nnrt_sgemm
		model "$here/models/fashion_$opt.nn" "$here/fashion.c" "fashion_$opt"
		model_ldflags=
	done
	model "$here/models/fashion_sgd.nn" "$here/infer.c" infer
	# Workload 3's inference-only builds, with the training build's fresh
	# weights (NAME_create(0), saved by `infer --save`) baked in; infer.c
	# checks their predictions against the training build's (infer_ref).
	infer_weights=$work/infer_weights.safetensors
	infer_ref=$work/infer_ref.bin
	if ! "$bin/infer" --save "$infer_weights" "$infer_ref" "$data" 2>>"$work/log"; then
		echo "bench/run.sh: failed: $bin/infer --save" >&2
		tail -n 20 "$work/log" >&2
		exit 1
	fi
	# IMPL:BINARY:NNC_OPTION (besides --infer-only --max-batch 256 --weights)
	infer_variants="nnc-infer:infer_only: nnc-infer-noblas:infer_only_noblas:--no-blas"
	for variant in $infer_variants; do
		IFS=: read -r impl out opt <<<"$variant"
		# The CBLAS build also times the bare forward GEMMs beside its
		# predictions (bench/infer.c, BARE_GEMM).
		model_cflags=
		[ "$impl" != nnc-infer ] || model_cflags="$(pkg-config --cflags openblas) -DBARE_GEMM=784,256,128,10"
		if ! "$nnc" build --help 2>&1 | grep -q -- '--infer-only'; then
			meta "infer_only_$impl" "n/a (not implemented yet)"
		elif ! model "$here/models/fashion_sgd.nn" "$here/infer.c" "$out" --infer-only \
			--max-batch 256 --weights "$infer_weights" $opt 2>>"$work/log"; then
			meta "infer_only_$impl" "n/a (nnc build --infer-only or compiling bench/infer.c with it failed: see build/bench/log)"
		# CALLS 0 0: the check against the training build's predictions alone.
		elif ! "$bin/$out" "$impl" "$data" 0 0 "$infer_ref" 2>>"$work/log"; then
			why=$(grep "^infer: $impl: " "$work/log" | tail -1)
			echo "bench/run.sh: workload 3 aborted: ${why:-$bin/$out failed: see $work/log}" >&2
			meta infer_aborted "${why:-$out failed its check: see build/bench/log}"
			rm -f "$bin/$out"
		else
			meta "infer_only_$impl" "built with nnc build --infer-only --max-batch 256 --weights W${opt:+ $opt}"
		fi
	done
	model_cflags=
fi

# The scaling series: one model per point, all linked into one driver.
scaling_specs=()
mkdir -p "$gen/scaling"
{
	echo "/* scaling_models.h — generated by bench/run.sh for bench/scaling.c */"
	models="" points=""
	for point in $(for w in $widths; do echo "width:$w:64"; done; for b in $batches; do echo "batch:256:$b"; done); do
		IFS=: read -r series w b <<<"$point"
		name=mlp_w${w}_b${b}
		scaling_specs+=("$point")
		if [ ! -f "$gen/scaling/$name.nn" ]; then
			cat >"$gen/scaling/$name.nn" <<EOF
# generated by bench/run.sh: the scaling series, width $w, batch $b
model $name {
    input x[784]

    dense($w, relu)
    dense(10, softmax)

    loss sparse_categorical_crossentropy
    optimizer sgd(learning_rate = 0.01, momentum = 0.9)
    batch $b
}
EOF
			"$nnc" build "$gen/scaling/$name.nn" -o "$gen/scaling" >&2
			echo "#include \"$name.h\""
			models="$models \\
    X($name, $b)"
		fi
		points="$points \\
    X($name, \"$series\", $w, $b)"
	done
	echo "#define SCALING_MODELS(X)$models"
	echo "#define SCALING_POINTS(X)$points"
} >"$gen/scaling/scaling_models.h"
cc_c99 -I"$gen/scaling" -I"$here" "$here/scaling.c" "$gen"/scaling/mlp_*.c $libs -o "$bin/scaling"

# The compiler-speed inputs: chains of dense(32, relu) layers.
for n in $chain_layers; do
	{
		echo "# generated by bench/run.sh: $n dense(32, relu) layers in a chain"
		echo "model chain_$n {"
		echo "    input x[32]"
		echo
		for _ in $(seq "$n"); do echo "    dense(32, relu)"; done
		echo
		echo "    loss mse"
		echo "    optimizer sgd(learning_rate = 0.01)"
		echo "    batch 32"
		echo "}"
	} >"$gen/chain_$n.nn"
done

# Threads for PyTorch: each process tries both, in turn.
threads_for_round() { if [ $(($1 % 2)) = 1 ]; then echo 1,2; else echo 2,1; fi; }

done_with build

# ---- 1: the course toy -----------------------------------------------------
note "1 toy: $rounds round(s) of $toy_steps steps"
for r in $(seq "$rounds"); do
	run "$bin/toy" "$root/examples/grades.csv" "$toy_steps"
	[ "$have_torch" = 0 ] ||
		run "$torchpy" "$here/torch_bench.py" toy "$root/examples/grades.csv" "$toy_steps" "$(threads_for_round "$r")"
	[ "$have_fann" = 0 ] ||
		run "$bin/fann_toy" "$root/examples/grades.csv" "$toy_steps"
done

done_with toy

# ---- 2 and 5: Fashion-MNIST training and its memory -----------------------
if [ "$have_data" = 1 ]; then
	best=1
	if [ "$have_torch" = 1 ]; then
		note "2 fashion: which PyTorch thread count trains faster"
		run "$torchpy" "$here/torch_bench.py" probe "$data" "$probe_steps" 1,2
		best=$(awk -F'\t' '$1 == "probe" { print $5, substr($3, 8) }' "$results" |
			sort -g | head -1 | cut -d' ' -f2)
	fi
	meta torch_fashion_threads "$best"
	for r in $(seq "$rounds"); do
		e=$epochs
		[ "$accuracy" = 1 ] && e=$acc_epochs
		for opt in sgd adam; do
			note "2 fashion: round $r/$rounds, $opt, $e epoch(s)"
			run "$bin/fashion_$opt" "$opt" "$data" "$e" "$r"
			# The distance to the limit: OpenBLAS alone at the shapes
			# of an sgd step, in the same round as nnc's epochs.
			if [ "$opt" = sgd ]; then
				note "sgemm: round $r/$rounds, OpenBLAS at the GEMM shapes of a Fashion step"
				run "$bin/sgemm_rate" "$sgemm_seconds" 60000 64 784 256 128 10
			fi
			[ "$have_torch" = 0 ] ||
				run "$torchpy" "$here/torch_bench.py" fashion "$opt" "$data" "$e" "$r" "$best"
		done
		# FANN's nearest to fashion_sgd, once a round.
		if [ "$have_fann" = 1 ]; then
			note "2 fashion: round $r/$rounds, FANN, $fann_epochs epoch(s)"
			run "$bin/fann_fashion" "$data" "$fann_epochs" "$r"
		fi
	done
fi

done_with fashion

# ---- 3: inference -----------------------------------------------------------
if [ "$have_data" = 1 ] && [ -z "$(sed -n 's/^infer_aborted\t//p' "$meta")" ]; then
	note "3 infer: $rounds round(s)"
	for r in $(seq "$rounds"); do
		run "$bin/infer" nnc "$data" "$infer_calls1" "$infer_calls256" "$infer_ref"
		for variant in $infer_variants; do
			IFS=: read -r impl out _ <<<"$variant"
			[ ! -x "$bin/$out" ] ||
				run "$bin/$out" "$impl" "$data" "$infer_calls1" "$infer_calls256" "$infer_ref"
		done
		[ "$have_torch" = 0 ] ||
			run "$torchpy" "$here/torch_bench.py" infer "$data" "$infer_calls1" "$infer_calls256" "$(threads_for_round "$r")"
	done
fi

done_with infer

# ---- 4: compiler speed ------------------------------------------------------
note "4 compile: nnc check/build on $chain_layers layers, $compile_reps runs each"
for n in $chain_layers; do
	run "$bin/timeit" "$compile_reps" compile "check-$n" nnc -- "$nnc" check "$gen/chain_$n.nn"
	run "$bin/timeit" "$compile_reps" compile "build-$n" nnc -- "$nnc" build "$gen/chain_$n.nn" -o "$work/chain"
done
if [ "$have_data" = 1 ]; then
	run "$bin/timeit" "$compile_reps" compile cc-fashion cc -- \
		cc $cflags -std=c99 -I"$root/runtime" -c "$gen/fashion_sgd/fashion_sgd.c" -o "$work/fashion_sgd.o"
	meta fashion_c_lines "$(wc -l <"$gen/fashion_sgd/fashion_sgd.c")"
	meta fashion_acts "$(sed -n 's|.*\*acts; */\* \[\([0-9]*\)\].*|\1|p' "$gen/fashion_sgd/fashion_sgd.c")"
fi
for n in $chain_layers; do
	meta "chain_c_bytes_$n" "$(wc -c <"$work/chain/chain_$n.c")"
done

done_with compile

# ---- 6: scaling ---------------------------------------------------------------
note "6 scaling: $rounds round(s), ${scaling_seconds} s per point"
for r in $(seq "$rounds"); do
	run "$bin/scaling" "$scaling_seconds"
	[ "$have_torch" = 0 ] ||
		run "$torchpy" "$here/torch_bench.py" scaling "$scaling_seconds" "$(threads_for_round "$r")" "${scaling_specs[@]}"
done

done_with scaling

# ---- the distance to the limit: OpenBLAS alone ------------------------------
# Measured within the Fashion rounds above; on its own when there is no data.
if [ "$have_data" != 1 ]; then
	note "sgemm: OpenBLAS at the GEMM shapes of a Fashion step"
	run "$bin/sgemm_rate" "$sgemm_seconds" 60000 64 784 256 128 10
fi

done_with sgemm

# ---- the report ----------------------------------------------------------------
meta seconds "$(($(date +%s) - started))"
cp "$results" "$here/results.tsv"
"$reportpy" "$here/report.py" "$work" "$here/RESULTS.md" "$here/scaling.svg"
note "done in $(($(date +%s) - started)) s: bench/RESULTS.md, bench/scaling.svg"
