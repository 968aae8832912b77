#!/bin/sh
# $cflags, $def and $libs hold several words each, left unquoted on purpose:
# shellcheck disable=SC2086
# run.sh — numeric tests against PyTorch: every tests/reference/models/NAME.nn
# is built with nnc in four variants, compiled with check_reference.c, and
# run against the reference values in data/ (made by make_reference.py, which
# needs PyTorch; this script does not).
#
#   tests/reference/run.sh NNC LIBDIR [NAME...]
#
# NNC is the nnc binary, LIBDIR the folder holding libnnrt.a; NAMEs restrict
# the run to those models. Each model is built four ways: f32 and f64, each
# with nnc's default unrolling of small layers (which these small models
# get everywhere) and with --unroll-limit 0 (every dense layer through the
# GEMM wrapper), labelled "f32-gemm" and "f64-gemm". For each:
#   nnc build models/NAME.nn -o TMP --precision P [--unroll-limit 0]
#                                                  -> TMP/NAME.h, TMP/NAME.c
#   cc -c TMP/NAME.c; cc check_reference.c -include TMP/NAME.h ... -> check
#   check data/NAME TMP/saved.safetensors
# Both the generated C and the harness must compile warning-free as C99.
# Prints one line per model and variant, then "N passed, N failed"; exits
# non-zero when anything failed. CC overrides the compiler (default gcc);
# SANFLAGS are added to every compile and link (make SANITIZE=1).
set -u
if [ $# -lt 2 ]; then
	echo "usage: $0 NNC LIBDIR [NAME...]" >&2
	exit 2
fi
nnc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
libdir=$(cd "$2" && pwd)
shift 2
root=$(cd "$(dirname "$0")" && pwd)
runtime=$(cd "$root/../../runtime" && pwd)
cc=${CC:-gcc}
cflags="-std=c99 -Wall -Wextra -Wpedantic -Werror -O2 -I$runtime ${SANFLAGS:-}"
libs="$libdir/libnnrt.a $(pkg-config --libs openblas libcjson) -lm -pthread"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

if [ $# -eq 0 ]; then
	for nn in "$root"/models/*.nn; do
		set -- "$@" "$(basename "$nn" .nn)"
	done
fi

# fail NAME PRECISION WHAT LOG: reports a failed step with its output.
fail() {
	printf '%-24s %s:  FAIL (%s)\n' "$1" "$2" "$3"
	sed 's/^/    /' "$4"
	fail=$((fail + 1))
}

for name in "$@"; do
	upper=$(echo "$name" | tr '[:lower:]' '[:upper:]')
	for variant in f32 f64 f32-gemm f64-gemm; do
		prec=${variant%-gemm}
		opts="--precision $prec"
		[ "$variant" != "$prec" ] && opts="$opts --unroll-limit 0"
		def="-DREF_LABEL=$variant"
		[ "$prec" = f64 ] && def="$def -DREF_F64"
		out=$tmp/$name.$variant
		log=$out.log
		mkdir -p "$out"
		if ! "$nnc" build "$root/models/$name.nn" -o "$out" $opts \
		     >"$log" 2>&1; then
			fail "$name" "$variant" "nnc build" "$log"
			continue
		fi
		if ! $cc $cflags -c "$out/$name.c" -o "$out/$name.o" >"$log" 2>&1; then
			fail "$name" "$variant" "compiling the generated C" "$log"
			continue
		fi
		if ! $cc $cflags $def -DMODEL="$name" -DMODEL_UPPER="$upper" \
		     -include "$out/$name.h" "$root/check_reference.c" \
		     "$out/$name.o" $libs -o "$out/check" >"$log" 2>&1; then
			fail "$name" "$variant" "compiling check_reference.c" "$log"
			continue
		fi
		if "$out/check" "$root/data/$name" "$out/saved.safetensors"; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
		fi
	done
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
