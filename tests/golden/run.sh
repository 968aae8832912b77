#!/bin/sh
# run.sh — golden tests: each tests/golden/<group>/NAME.nn sits beside the
# exact expected output of one nnc command, chosen by the file's extension:
#
#   NAME.out   nnc check NAME.nn          (stdout and stderr, then the exit status)
#   NAME.err   nnc check NAME.nn          (the same; used for syntax errors)
#   NAME.ir    nnc check --dump=ir NAME.nn
#   NAME.ast   nnc check --dump=ast NAME.nn
#   NAME.dot   nnc graph NAME.nn
#   NAME.gen   nnc build NAME.nn -o DIR, then the generated DIR/*.h and DIR/*.c
#
# A first line `# args: ...` in NAME.nn replaces the command's options.
# The command runs inside the group's folder so messages name just NAME.nn.
#
#   tests/golden/run.sh build/nnc            compare, print a diff per failure
#   tests/golden/run.sh build/nnc --update   rewrite the expected files
set -u
nnc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
update=${2:-}
root=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

run_case() { # dir name ext
	dir=$1 name=$2 ext=$3
	case $ext in
	out|err) args="check" ;;
	ir)      args="check --dump=ir" ;;
	ast)     args="check --dump=ast" ;;
	dot)     args="graph" ;;
	gen)     args="build" ;;
	esac
	custom=$(sed -n '1s/^# args: *//p' "$dir/$name.nn")
	[ -n "$custom" ] && args=$custom
	if [ "$ext" = gen ]; then
		out=$(mktemp -d)
		# shellcheck disable=SC2086 # args is a word list on purpose
		(cd "$dir" && "$nnc" $args "$name.nn" -o "$out" >"$tmp" 2>&1
		 echo "[exit $?]" >>"$tmp"
		 for f in "$out"/*.h "$out"/*.c; do
			[ -f "$f" ] && { echo "==> $(basename "$f") <=="; cat "$f"; }
		 done >>"$tmp")
		rm -rf "$out"
	else
		# shellcheck disable=SC2086 # args is a word list on purpose
		(cd "$dir" && "$nnc" $args "$name.nn" >"$tmp" 2>&1; echo "[exit $?]" >>"$tmp")
	fi
	if [ "$update" = --update ]; then
		cp "$tmp" "$dir/$name.$ext"
		pass=$((pass + 1))
	elif diff -u "$dir/$name.$ext" "$tmp" >"$tmp.diff"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $dir/$name.$ext (nnc $args $name.nn)"
		sed 's/^/    /' "$tmp.diff"
	fi
	rm -f "$tmp.diff"
}

for nn in "$root"/*/*.nn; do
	dir=$(dirname "$nn")
	name=$(basename "$nn" .nn)
	found=0
	for ext in out err ir ast dot gen; do
		if [ -f "$dir/$name.$ext" ]; then
			run_case "$dir" "$name" "$ext"
			found=1
		fi
	done
	if [ $found = 0 ]; then
		if [ "$update" = --update ]; then
			run_case "$dir" "$name" out
		else
			echo "FAIL: $nn has no expected output (.out, .err, .ir, .ast, .dot or .gen)"
			fail=$((fail + 1))
		fi
	fi
done
echo "golden: $pass passed, $fail failed"
[ $fail = 0 ]
