#!/bin/sh
# run.sh — numeric tests of the C back end (nnc build).
#
#   tests/numeric/run.sh NNC LIBNNRT_DIR [WORKDIR]
#   e.g. tests/numeric/run.sh build/nnc build          (scratch: build/numeric)
#
# For every tests/numeric/models/NAME.nn, once with the default unroll limit
# and once with --unroll-limit 0 (every dense layer through GEMM):
#   f64   nnc build --precision f64; the C compiled with gcc and clang under
#         the strict flags below; gradcheck.c (finite differences) run on it
#         unless the model has no loss;
#   f32   nnc build; compiled the same way; train.c run on it (200 training
#         steps lower the loss; fit, evaluate, save and load work).
# For every examples/*.nn: f32 and f64 builds compiled with gcc and clang
# under the same flags, and `nnc build` run twice gives identical files.
#
# Prints a line per failure with its log, then "N passed, N failed"; exits 1
# if anything failed.  Needs gcc, clang, pkg-config, OpenBLAS and cJSON.
set -u
if [ $# -lt 2 ]; then
	echo "usage: $0 NNC LIBNNRT_DIR [WORKDIR]" >&2
	exit 2
fi
nnc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
libdir=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${3:-$libdir/numeric}
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
inc=$root/runtime
libs="$libdir/libnnrt.a $(pkg-config --libs openblas libcjson) -lm -pthread"
# Generated code must compile cleanly under all of these.
strict="-std=c99 -Wall -Wextra -Wpedantic -Werror -Wshadow -Wconversion \
-Wsign-conversion -Wdouble-promotion -Wstrict-prototypes \
-Wmissing-prototypes -Wcast-qual -Wundef -Wformat=2"
# The harnesses are ordinary test code.  SANFLAGS (make SANITIZE=1)
# instrument what runs: the generated objects, the harnesses, the links.
san=${SANFLAGS:-}
harness="-std=c99 -O1 -Wall -Wextra -Werror $san"
# shellcheck source=tests/lib.sh
. "$root/tests/lib.sh"

# What targets the harnesses make for a model's loss.
targets_of() {
	loss=$(sed -n 's/^[[:space:]]*loss[[:space:]][[:space:]]*\([a-z_]*\).*/\1/p' "$1")
	case $loss in
	mse|mae) echo TARGET_REAL ;;
	binary_crossentropy) echo TARGET_BINARY ;;
	categorical_crossentropy) echo TARGET_ONEHOT ;;
	sparse_categorical_crossentropy) echo TARGET_SPARSE ;;
	*) echo NONE ;;
	esac
}

# build_and_compile NN DIR NNC-OPTIONS...: nnc build into DIR, then every
# generated .c compiled by gcc (to DIR/NAME.o) and checked by clang.
build_and_compile() {
	bc_nn=$1 bc_dir=$2
	shift 2
	mkdir -p "$bc_dir" &&
	"$nnc" build "$bc_nn" -o "$bc_dir" "$@" &&
	for c in "$bc_dir"/*.c; do
		gcc $strict -O1 $san -I"$inc" -c "$c" -o "${c%.c}.o" &&
		clang $strict -I"$inc" -fsyntax-only "$c" || return 1
	done
}

# run_harness SRC DIR NAME TARGETS REAL: links SRC against DIR/NAME.o, runs it
# in DIR and prints its summary line.
run_harness() {
	rh_src=$1 rh_dir=$2 rh_name=$3 rh_targets=$4 rh_real=$5
	rh_upper=$(echo "$rh_name" | tr '[:lower:]' '[:upper:]')
	rh_extra=
	[ "$rh_targets" = NONE ] && rh_extra=-DNO_LOSS
	# shellcheck disable=SC2086 # flag lists on purpose
	gcc $harness -DMODEL="$rh_name" -DMODEL_UPPER="$rh_upper" \
	    -DTARGETS="$rh_targets" -DREAL="$rh_real" $rh_extra \
	    -include "$rh_dir/$rh_name.h" -I"$inc" -c "$rh_src" \
	    -o "$rh_dir/harness.o" &&
	gcc $san "$rh_dir/harness.o" "$rh_dir/$rh_name.o" $libs \
	    -o "$rh_dir/harness" &&
	(cd "$rh_dir" && ./harness) >"$rh_dir/summary" 2>"$rh_dir/stderr"
	rh_status=$?
	cat "$rh_dir/summary" 2>/dev/null
	[ $rh_status = 0 ] || cat "$rh_dir/stderr" 2>/dev/null
	return $rh_status
}

for nn in "$here"/models/*.nn; do
	name=$(basename "$nn" .nn)
	targets=$(targets_of "$nn")
	for variant in default unroll0; do
		opts=
		[ $variant = unroll0 ] && opts="--unroll-limit 0"
		d=$work/$name-$variant
		# shellcheck disable=SC2086 # opts is a word list on purpose
		check "$name ($variant, f64): build and compile" \
			build_and_compile "$nn" "$d-f64" --precision f64 $opts
		if [ "$targets" != NONE ]; then
			check "$name ($variant, f64): gradient check" \
				run_harness "$here/gradcheck.c" "$d-f64" "$name" "$targets" double
			sed 's/^/  /' "$d-f64/summary" 2>/dev/null
		fi
		# shellcheck disable=SC2086
		check "$name ($variant, f32): build and compile" \
			build_and_compile "$nn" "$d-f32" $opts
		check "$name ($variant, f32): training" \
			run_harness "$here/train.c" "$d-f32" "$name" "$targets" float
		sed 's/^/  /' "$d-f32/summary" 2>/dev/null
	done
done

for nn in "$root"/examples/*.nn; do
	name=$(basename "$nn" .nn)
	d=$work/example-$name
	check "examples/$name.nn (f32): build and compile" \
		build_and_compile "$nn" "$d-f32"
	check "examples/$name.nn (f64, --unroll-limit 0): build and compile" \
		build_and_compile "$nn" "$d-f64" --precision f64 --unroll-limit 0
	check "examples/$name.nn: the same input gives the same files" \
		sh -c "mkdir -p '$d-again' && '$nnc' build '$nn' -o '$d-again' &&
		       cmp '$d-f32/$name.c' '$d-again/$name.c' &&
		       cmp '$d-f32/$name.h' '$d-again/$name.h'"
done

echo "numeric: $pass passed, $fail failed"
[ $fail = 0 ]
