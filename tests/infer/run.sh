#!/bin/sh
# run.sh — tests of the inference-only build (nnc build --infer-only).
#
#   tests/infer/run.sh NNC BUILD_DIR [WORKDIR]
#   e.g. tests/infer/run.sh build/nnc build          (scratch: build/infer)
#
# BUILD_DIR holds libnnrt.a, the runtime with OpenBLAS.  For every
# examples/*.nn and tests/infer/models/*.nn, the training build (nnc build)
# makes weights and reference predictions (make_weights.c), and builds of
# the deployment pair must reproduce them (predict.c, which also checks
# NAME_load, NAME_load_memory and the scratch block):
#
#   exactly   --no-blas pairs, against the training build linked with a
#             runtime compiled with -DNNRT_NO_BLAS, at the same unroll limit.
#             That compares like with like: both unroll the same small layers
#             into the same expressions, and both compute every other dense
#             layer as the runtime's plain GEMM does, each output the sum of
#             its products from k = 0 up, starting from 0, then the bias.
#             Both are compiled by the same compiler with the same flags
#             (-std=c99 -O2, no -march, so no FMA contraction).
#   1e-6      pairs that call CBLAS, against the training build linked with
#             OpenBLAS, at the training build's batch, where both make the
#             same cblas_sgemm and cblas_sgemv calls: relative, value by
#             value.  The references run with NNRT_NUM_THREADS=1, so that
#             the runtime does not split its products over threads (a part
#             may take other OpenBLAS kernels than the whole).
#   1e-5      the same at another max batch, relative to the largest value
#             of the row: OpenBLAS picks its kernels and blocking by the
#             number of rows, which moves the last bits of a float sum
#             (fashion_mlp's sums of 784 products differ by up to 5e-6),
#             and a softmax turns such a difference in a logit into a
#             relative one in its tiny probabilities.
#
# The variants: weights built in (--weights) or loaded (NAME_load), static
# or caller scratch, max batch 1 or more, f32 and f64, --unroll-limit 0
# (every dense layer through the loops), and a checkpoint as --weights.
# Besides: every pair compiles under gcc and clang with -std=c99 -Wall
# -Wextra -Wpedantic -Werror and the stricter flags of tests/numeric; the
# --no-blas --weights pair compiles with -ffreestanding and its object
# needs no symbol but math functions (nm -u, with gcc -O2, gcc -O3 and
# clang -O2); with --scratch caller too it has no writable static data;
# NAME_SCRATCH_BYTES is the liveness plan's figure (for a chain, the two
# largest neighbouring tensors between input and output); the same input
# gives the same files; wrong weights and options give nnc's errors.
#
# Prints a line per failure with its log, then "infer: N passed, N failed";
# exits 1 if anything failed.  Needs gcc, clang, nm, pkg-config, OpenBLAS,
# cJSON and zlib.
set -u
if [ $# -lt 2 ]; then
	echo "usage: $0 NNC BUILD_DIR [WORKDIR]" >&2
	exit 2
fi
nnc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
libdir=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${3:-$libdir/infer}
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
inc=$root/runtime
blas_cflags=$(pkg-config --cflags openblas)
blas_libs=$(pkg-config --libs openblas)
rt_libs="$(pkg-config --libs libcjson zlib) -lm"
strict="-std=c99 -Wall -Wextra -Wpedantic -Werror -Wshadow -Wconversion \
-Wsign-conversion -Wdouble-promotion -Wstrict-prototypes \
-Wmissing-prototypes -Wcast-qual -Wundef -Wformat=2"
# SANFLAGS (make SANITIZE=1) instrument what runs: the runtimes, the
# generated objects, the harnesses.  The symbol checks (freestanding,
# no_static_state) compile objects of their own, uninstrumented.
san=${SANFLAGS:-}
harness="-std=c99 -O2 -Wall -Wextra -Werror $san"
# What the object of a --no-blas --weights pair may leave undefined.
mathfns="exp expf log logf log1p log1pf sqrt sqrtf sin sinf cos cosf tan tanf
tanh tanhf pow powf fabs fabsf"
# shellcheck source=tests/lib.sh
. "$root/tests/lib.sh"

upper() {
	echo "$1" | tr '[:lower:]' '[:upper:]'
}

# ---- a runtime without BLAS, for the exact comparisons ---------------------

mkdir -p "$work/rt"
check "the runtime compiled with -DNNRT_NO_BLAS" sh -c '
	for f in "$1"/*.c; do
		gcc -std=c11 -O2 $3 -DNNRT_NO_BLAS -D_POSIX_C_SOURCE=200809L \
		    $(pkg-config --cflags libcjson zlib) -I"$1" -c "$f" \
		    -o "$2/rt/$(basename "$f" .c).o" || exit 1
	done
	ar rcs "$2/libnnrt_noblas.a" "$2"/rt/*.o' sh "$inc" "$work" "$san"

# reference NN DIR NAME REAL RUNTIME OPTIONS...: the training build of NN in
# DIR, linked with make_weights.c and RUNTIME, run there: DIR/w.safetensors,
# DIR/ckpt.safetensors, DIR/x.bin, DIR/y.bin.
reference() {
	rf_nn=$1 rf_dir=$2 rf_name=$3 rf_real=$4 rf_rt=$5
	shift 5
	mkdir -p "$rf_dir" &&
	"$nnc" build "$rf_nn" -o "$rf_dir" "$@" 2>/dev/null &&
	gcc $harness -DMODEL="$rf_name" -DMODEL_UPPER="$(upper "$rf_name")" \
	    -DREAL="$rf_real" -include "$rf_dir/$rf_name.h" -I"$inc" \
	    "$here/make_weights.c" "$rf_dir/$rf_name.c" "$rf_rt" $blas_libs \
	    $rt_libs -o "$rf_dir/make_weights" &&
	(cd "$rf_dir" && NNRT_NUM_THREADS=1 ./make_weights w.safetensors x.bin y.bin)
}

# pair NN DIR NAME REAL HARNESS-FLAGS -- NNC-OPTIONS...: nnc build
# --infer-only into DIR; the pair compiled strictly by gcc and checked by
# clang, then linked with predict.c (HARNESS-FLAGS: -DLOAD, -DCALLER) into
# DIR/predict.
pair() {
	pr_nn=$1 pr_dir=$2 pr_name=$3 pr_real=$4 pr_flags=$5
	shift 6
	mkdir -p "$pr_dir" &&
	"$nnc" build "$pr_nn" --infer-only -o "$pr_dir" "$@" 2>/dev/null &&
	gcc $strict -O2 $san $blas_cflags -c "$pr_dir/$pr_name.c" \
	    -o "$pr_dir/$pr_name.o" &&
	clang $strict $blas_cflags -fsyntax-only "$pr_dir/$pr_name.c" &&
	gcc $harness $pr_flags -DMODEL="$pr_name" \
	    -DMODEL_UPPER="$(upper "$pr_name")" -DREAL="$pr_real" \
	    -include "$pr_dir/$pr_name.h" "$here/predict.c" \
	    "$pr_dir/$pr_name.o" $blas_libs -lm -o "$pr_dir/predict"
}

# native FROM DIR NAME REAL REF: FROM's pair recompiled with -O3
# -march=native (-ffp-contract=off, so still no FMA), linked with
# predict.c into DIR/predict, and its outputs equal to REF's bit for bit.
# On a CPU with AVX-512 that turns on the pair's request for 512-bit
# vectors; vectors of any width add each output's products in the same
# order.
native() {
	mkdir -p "$2" &&
	gcc $strict -O3 -march=native -ffp-contract=off $san -c "$1/$3.c" \
	    -o "$2/$3.o" &&
	gcc $harness -DMODEL="$3" -DMODEL_UPPER="$(upper "$3")" -DREAL="$4" \
	    -include "$1/$3.h" "$here/predict.c" "$2/$3.o" -lm -o "$2/predict" &&
	exact "$2" "$5"
}

# predict DIR REF [WEIGHTS]: DIR/predict on REF's inputs into DIR/y.bin.
predict() {
	"$1/predict" "$2/x.bin" "$1/y.bin" ${3:+"$3"}
}

# exact DIR REF [WEIGHTS]: the outputs equal REF's bit for bit.
exact() {
	predict "$@" && cmp "$2/y.bin" "$1/y.bin"
}

# close DIR REF REAL TOL ROW [WEIGHTS]: the outputs within TOL of REF's,
# relative to each value (ROW 0) or to the largest of its row of ROW.
close() {
	cl_dir=$1 cl_ref=$2 cl_prec=$3 cl_tol=$4 cl_row=$5
	shift 5
	predict "$cl_dir" "$cl_ref" "$@" &&
	"$work/compare" "$cl_ref/y.bin" "$cl_dir/y.bin" "$cl_prec" "$cl_tol" $cl_row
}

# freestanding DIR NAME: the pair compiles with -ffreestanding, and its
# objects (gcc -O2 and -O3, clang -O2) leave nothing undefined but math
# functions of the C library.
freestanding() {
	fs_dir=$1 fs_name=$2
	for fs_cc in "gcc -O2" "gcc -O3" "clang -O2"; do
		# shellcheck disable=SC2086 # compiler and flags
		$fs_cc $strict -ffreestanding -c "$fs_dir/$fs_name.c" \
		    -o "$fs_dir/free.o" || return 1
		for sym in $(nm -u "$fs_dir/free.o" | awk '{print $2}'); do
			case " $(echo $mathfns) " in
			*" $sym "*) ;;
			*) echo "$fs_cc: undefined symbol $sym"; return 1 ;;
			esac
		done
	done
}

# no_static_state DIR NAME: the object has no writable data (nm types b,
# B, d, D): parameters are const, scratch is the caller's.
no_static_state() {
	gcc $strict -O2 $blas_cflags -c "$1/$2.c" -o "$1/static.o" || return 1
	if nm "$1/static.o" | grep -E ' [bBdD] '; then
		echo "writable static data above"
		return 1
	fi
}

# scratch_is DIR NAME BYTES: the header says NAME_SCRATCH_BYTES BYTES.
scratch_is() {
	got=$(sed -n "s/^#define $(upper "$2")_SCRATCH_BYTES *\([0-9]*\).*/\1/p" \
	      "$1/$2.h")
	[ "$got" = "$3" ] || { echo "SCRATCH_BYTES is '$got', expected $3"; return 1; }
}

check "compare.c compiles" gcc $harness "$here/compare.c" -lm -o "$work/compare"

# Scratch bytes per row of MAX_BATCH, from the shapes of the .nn files:
# for a chain, the two largest neighbouring tensors strictly between input
# and output (the input is the caller's x, the output is written to y).
#   approved   no tensor in between
#   careers    dense(8)                       8
#   fashion    dense(256), dense(128)         384
#   grades     dense(4), dense(5)             9
#   xor        dense(4)                       4
# and for the graphs, the most values live at one step:
#   wide_deep  deep 16 + wide 4 + concat 20 while the concat is computed
#   merges     h 12 + a 20 + relu 20 + c 20 + s 20 while the add runs
#   twice      s 30 + concat 63 while the concat is computed
#   groups     softmax 20 + dense 10
#   copy       none: y is a copy of x
per_row() {
	case $1 in
	approved|copy) echo 0 ;;
	careers) echo 8 ;;
	fashion_mlp) echo 384 ;;
	grades) echo 9 ;;
	xor) echo 4 ;;
	wide_deep) echo 40 ;;
	merges) echo 92 ;;
	twice) echo 93 ;;
	groups) echo 30 ;;
	*) echo unknown ;;
	esac
}

for nn in "$root"/examples/*.nn "$here"/models/*.nn; do
	name=$(basename "$nn" .nn)
	d=$work/$name
	nb=$work/libnnrt_noblas.a
	rt=$libdir/libnnrt.a

	# The references: f32 without and with BLAS, f64 and unroll 0 without.
	check "$name: reference (training build, no BLAS)" \
		reference "$nn" "$d/ref" "$name" float "$nb"
	check "$name: reference (training build, OpenBLAS)" \
		reference "$nn" "$d/ref-blas" "$name" float "$rt"
	check "$name: reference (training build, f64, no BLAS)" \
		reference "$nn" "$d/ref-f64" "$name" double "$nb" --precision f64
	check "$name: reference (training build, --unroll-limit 0, no BLAS)" \
		reference "$nn" "$d/ref-u0" "$name" float "$nb" --unroll-limit 0
	w=$d/ref/w.safetensors

	# --no-blas: exactly the training build's outputs.
	check "$name: --no-blas --weights: builds and compiles" \
		pair "$nn" "$d/nb-w" "$name" float "" -- --no-blas --weights "$w"
	check "$name: --no-blas --weights: outputs equal the training build's" \
		exact "$d/nb-w" "$d/ref"
	check "$name: --no-blas --weights, -O3 -march=native: equal outputs" \
		native "$d/nb-w" "$d/nb-w-native" "$name" float "$d/ref"
	check "$name: --no-blas --weights: -ffreestanding, only math symbols" \
		freestanding "$d/nb-w" "$name"
	check "$name: --no-blas --weights: SCRATCH_BYTES" \
		scratch_is "$d/nb-w" "$name" $(($(per_row "$name") * 4))
	check "$name: --no-blas --weights --scratch caller --max-batch 3" \
		pair "$nn" "$d/nb-w-caller" "$name" float -DCALLER -- --no-blas \
		--weights "$w" --scratch caller --max-batch 3
	check "$name: ... --scratch caller: outputs equal the training build's" \
		exact "$d/nb-w-caller" "$d/ref"
	check "$name: ... --scratch caller: no writable static data" \
		no_static_state "$d/nb-w-caller" "$name"
	check "$name: ... --max-batch 3: SCRATCH_BYTES" \
		scratch_is "$d/nb-w-caller" "$name" $(($(per_row "$name") * 4 * 3))
	check "$name: --no-blas, NAME_load, --max-batch 5" \
		pair "$nn" "$d/nb-load" "$name" float -DLOAD -- --no-blas \
		--max-batch 5
	check "$name: --no-blas, NAME_load: outputs equal the training build's" \
		exact "$d/nb-load" "$d/ref" "$w"
	check "$name: --no-blas, NAME_load, --scratch caller --max-batch 64" \
		pair "$nn" "$d/nb-load-caller" "$name" float "-DLOAD -DCALLER" -- \
		--no-blas --scratch caller --max-batch 64
	check "$name: ... NAME_load, --scratch caller: equal outputs" \
		exact "$d/nb-load-caller" "$d/ref" "$w"
	check "$name: --no-blas --unroll-limit 0 --weights" \
		pair "$nn" "$d/nb-u0" "$name" float "" -- --no-blas \
		--unroll-limit 0 --weights "$d/ref-u0/w.safetensors"
	check "$name: --unroll-limit 0: outputs equal the training build's" \
		exact "$d/nb-u0" "$d/ref-u0"
	check "$name: --precision f64 --no-blas --weights" \
		pair "$nn" "$d/nb-f64" "$name" double "" -- --no-blas \
		--precision f64 --weights "$d/ref-f64/w.safetensors"
	check "$name: f64: outputs equal the training build's" \
		exact "$d/nb-f64" "$d/ref-f64"
	check "$name: f64: -ffreestanding, only math symbols" \
		freestanding "$d/nb-f64" "$name"
	check "$name: --precision f64 --no-blas, NAME_load" \
		pair "$nn" "$d/nb-f64-load" "$name" double "-DLOAD" -- --no-blas \
		--precision f64
	check "$name: f64, NAME_load: outputs equal the training build's" \
		exact "$d/nb-f64-load" "$d/ref-f64" "$d/ref-f64/w.safetensors"

	# With CBLAS: within 1e-6 of the training build with OpenBLAS.
	up=$(upper "$name")
	batch=$(sed -n "s/^#define ${up}_BATCH *\([0-9]*\).*/\1/p" \
	        "$d/ref-blas/$name.h" 2>/dev/null)
	outs=$(sed -n "s/^#define ${up}_OUTPUT_SIZE *\([0-9]*\).*/\1/p" \
	       "$d/ref-blas/$name.h" 2>/dev/null)
	check "$name: --weights --max-batch ${batch:-?} (CBLAS)" \
		pair "$nn" "$d/blas-w" "$name" float -DBLAS -- --weights "$w" \
		--max-batch "${batch:-1}"
	check "$name: --weights (CBLAS): outputs within 1e-6" \
		close "$d/blas-w" "$d/ref-blas" f32 1e-6 0
	check "$name: NAME_load (CBLAS), --scratch caller --max-batch 5" \
		pair "$nn" "$d/blas-load" "$name" float "-DLOAD -DCALLER -DBLAS" -- \
		--scratch caller --max-batch 5
	check "$name: NAME_load (CBLAS): outputs within 1e-5 of the row's largest" \
		close "$d/blas-load" "$d/ref-blas" f32 1e-5 "${outs:-1}" "$w"

	check "$name: the same input gives the same files" sh -c '
		"$1" build "$2" --infer-only --no-blas --weights "$3" -o "$4/again" \
		    2>/dev/null &&
		cmp "$4/nb-w/$5.c" "$4/again/$5.c" && cmp "$4/nb-w/$5.h" "$4/again/$5.h"
		' sh "$nnc" "$nn" "$w" "$d" "$name"
done

# fashion_mlp: the plan is smaller than a buffer per tensor computed (the
# training build's layout: dense_1, dense_2 and dense_3, 394 values a row).
check "fashion_mlp: SCRATCH_BYTES is less than a buffer per tensor" sh -c '
	s=$(sed -n "s/^#define FASHION_MLP_SCRATCH_BYTES *\([0-9]*\).*/\1/p" \
	    "$1/fashion_mlp/nb-w/fashion_mlp.h")
	echo "scratch $s bytes, a buffer per tensor $((394 * 4))"
	[ "$s" -lt $((394 * 4)) ]' sh "$work"

# A checkpoint of nnc train gives the weights it holds.
check "a checkpoint as --weights" sh -c '
	cd "$1/grades/ref" &&
	cat > ckpt.c <<-EOF
	#include <stdio.h>
	int main(void)
	{
	    char err[256];
	    grades *m = grades_create(0);
	    if (!m || grades_load(m, "w.safetensors", err, sizeof err) ||
	        grades_save_checkpoint(m, "ckpt.safetensors", 3, err, sizeof err)) {
	        fprintf(stderr, "%s\n", m ? err : "out of memory");
	        grades_destroy(m);
	        return 1;
	    }
	    grades_destroy(m);
	    return 0;
	}
	EOF
	gcc -std=c99 $7 -include grades.h -I"$2" ckpt.c grades.c "$3" $4 -o ckpt &&
	./ckpt &&
	"$5" build "$6" --infer-only --no-blas --weights ckpt.safetensors \
	    -o "$1/grades/ckpt" 2>/dev/null &&
	grep -v "built in from\|weights of" "$1/grades/ckpt/grades.c" >a.c &&
	grep -v "built in from\|weights of" "$1/grades/nb-w/grades.c" >b.c &&
	cmp a.c b.c' sh "$work" "$inc" "$work/libnnrt_noblas.a" "$rt_libs" \
	"$nnc" "$root/examples/grades.nn" "$san"

# expect STATUS LINE COMMAND...: COMMAND exits with STATUS and LINE is a
# line of its stderr.
expect() {
	ex_status=$1 ex_text=$2
	shift 2
	"$@" 2>"$work/stderr" >/dev/null
	ex_got=$?
	if [ $ex_got != "$ex_status" ]; then
		echo "exit status $ex_got, expected $ex_status"
		cat "$work/stderr"
		return 1
	fi
	if ! grep -qxF -- "$ex_text" "$work/stderr"; then
		echo "stderr:"
		cat "$work/stderr"
		echo "expected: $ex_text"
		return 1
	fi
}

cd "$work" || exit 1
cp "$work/grades/ref/w.safetensors" grades.safetensors
cp "$work/grades/ref-f64/w.safetensors" grades64.safetensors
cp "$root/examples/careers.nn" "$root/examples/grades.nn" .
printf 'model one {\n input x[2]\n dense(1)\n}\nmodel two {\n input x[2]\n dense(2)\n}\n' \
	>two.nn
check "wrong shapes in --weights" expect 1 \
	"nnc: error: grades.safetensors: tensor 'dense_1.weight' has shape [4, 3], expected [8, 3]" \
	"$nnc" build careers.nn --infer-only --weights grades.safetensors -o err
check "wrong dtype in --weights" expect 1 \
	"nnc: error: grades64.safetensors: tensor 'dense_1.weight' has dtype F64, expected F32" \
	"$nnc" build grades.nn --infer-only --weights grades64.safetensors -o err
check "a missing --weights file" expect 1 \
	"nnc: error: nope.safetensors: cannot open: No such file or directory" \
	"$nnc" build grades.nn --infer-only --weights nope.safetensors -o err
check "--weights with two models" expect 1 \
	"two.nn: error: --weights holds the parameters of one model, but this file has 2; choose one with --model NAME" \
	"$nnc" build two.nn --infer-only --weights grades.safetensors -o err
check "--no-blas without --infer-only" expect 2 \
	"nnc: error: --no-blas is an option of 'nnc build --infer-only'; add --infer-only" \
	"$nnc" build grades.nn --no-blas -o err
check "--infer-only with --main" expect 2 \
	"nnc: error: --main writes a trainer program, --infer-only a pair for deployment: choose one" \
	"$nnc" build grades.nn --infer-only --main -o err
check "--max-batch 0" expect 2 \
	"nnc: error: --max-batch takes a number from 1 to 2147483647, not '0'" \
	"$nnc" build grades.nn --infer-only --max-batch 0 -o err
check "--weights without a file" expect 2 \
	"nnc: error: --weights needs a file" \
	"$nnc" build grades.nn --infer-only -o err --weights
check "--weights with an empty name" expect 2 \
	"nnc: error: --weights needs a file, not an empty name" \
	"$nnc" build grades.nn --infer-only --weights= -o err
check "--scratch without a value" expect 2 \
	"nnc: error: --scratch needs 'caller' or 'static'" \
	"$nnc" build grades.nn --infer-only -o err --scratch
check "--max-batch without a value" expect 2 \
	"nnc: error: --max-batch needs a number" \
	"$nnc" build grades.nn --infer-only -o err --max-batch
check "--scratch heap" expect 2 \
	"nnc: error: --scratch takes 'caller' or 'static', not 'heap'" \
	"$nnc" build grades.nn --infer-only --scratch heap -o err
check "a --max-batch too large for the model" expect 1 \
	"grades.nn:3:7: error: --max-batch 2000000000 is too large for model 'grades': a batch of its largest tensor would exceed 2147483647 values; at most 429496729" \
	"$nnc" build grades.nn --infer-only --max-batch 2000000000 -o err

# A weight that is NaN: a file of the model tiny with one, written here.
printf 'model tiny {\n input x[1]\n dense(1)\n}\n' >tiny.nn
hdr='{"dense_1.weight":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"dense_1.bias":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}'
{
	printf "\\$(printf %03o ${#hdr})\\000\\000\\000\\000\\000\\000\\000"
	printf '%s' "$hdr"
	printf '\000\000\300\177\000\000\200\077'    # NaN, then 1.0f
} >nan.safetensors
check "a NaN in --weights" expect 1 \
	"nnc: error: nan.safetensors: tensor 'dense_1.weight' holds NaN (element 0); the weights are not usable" \
	"$nnc" build tiny.nn --infer-only --weights nan.safetensors -o err

echo "infer: $pass passed, $fail failed"
[ $fail = 0 ]
