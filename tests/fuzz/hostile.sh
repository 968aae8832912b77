#!/bin/sh
# hostile.sh — nnc against hostile .nn files: huge, deep, long, binary,
# unterminated.  Each must be answered with a diagnostic (exit 1) or a
# success (exit 0) within 20 seconds: never a crash (exit >= 128), an
# internal error, an out-of-memory exit, a sanitizer report or a timeout.
# Several cases are there because they once took seconds to minutes
# (quadratic lookups or copies): their size is chosen so that the old
# behaviour would pass the time bound.
#
#   tests/fuzz/hostile.sh build/nnc             run every case
#   tests/fuzz/hostile.sh build/nnc -v          also print time and peak
#                                               memory of every case
#   HOSTILE_KEEP=1 tests/fuzz/hostile.sh ...    keep the generated files
#   HOSTILE_TIMEOUT=60 tests/fuzz/hostile.sh build/san/nnc
#                                               a longer bound (default 20 s)
#                                               for a sanitizer build, which
#                                               runs layers_1m in about 15 s
#
# The files are generated in a temporary directory (about 150 MB at the
# peak; each big file is deleted once its case has run).  Time and memory
# are measured with /usr/bin/time -v when it exists; cases over
# HOSTILE_SLOW seconds (default 5) or HOSTILE_MEM MiB (default 1024) are
# flagged "slow" / "big" but do not fail.
set -u
if [ $# -lt 1 ]; then
	echo "usage: $0 NNC [-v]" >&2
	exit 2
fi
nnc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
verbose=${2:-}
slow=${HOSTILE_SLOW:-5}
limit=${HOSTILE_TIMEOUT:-20}
bigmem=${HOSTILE_MEM:-1024}
dir=$(mktemp -d "${TMPDIR:-/tmp}/nnc-hostile.XXXXXX")
[ -n "${HOSTILE_KEEP:-}" ] || trap 'rm -rf "$dir"' EXIT
timer=
[ -x /usr/bin/time ] && timer=/usr/bin/time
pass=0 fail=0

# run NAME [EXPECT]: nnc check DIR/NAME.nn; EXPECT is 0, 1 or "any" (0 or 1).
run() {
	name=$1 expect=${2:-any} f="$dir/$1.nn"
	out="$dir/$name.stderr" tv="$dir/$name.time"
	if [ -n "$timer" ]; then
		# time outside timeout, so that a timeout kills nnc itself.
		"$timer" -v -o "$tv" timeout "$limit" "$nnc" check "$f" >/dev/null 2>"$out"
	else
		timeout "$limit" "$nnc" check "$f" >/dev/null 2>"$out"
	fi
	status=$?
	secs='?' mib='?'
	if [ -n "$timer" ] && [ -f "$tv" ]; then
		# "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:01.23"
		secs=$(sed -n 's/.*Elapsed (wall clock).*: \(.*\)/\1/p' "$tv" |
		       awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.2f", s }')
		mib=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tv" |
		      awk '{ printf "%d", $1 / 1024 }')
	fi
	why=
	if [ "$status" -eq 124 ]; then
		why="timed out after $limit s"
	elif [ "$status" -ge 128 ]; then
		why="killed by signal $((status - 128))"
	elif grep -q -a -E 'Sanitizer|runtime error:|internal error|out of memory' "$out"; then
		why="crash report on stderr"
	elif [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
		why="exit $status"
	elif [ "$expect" != any ] && [ "$status" -ne "$expect" ]; then
		why="exit $status, expected $expect"
	fi
	note=
	case $secs in '?') ;; *) awk "BEGIN { exit !($secs > $slow) }" && note=" slow" ;; esac
	case $mib in '?') ;; *) [ "$mib" -gt "$bigmem" ] && note="$note big" ;; esac
	size=$(wc -c <"$f" | tr -d ' ')
	if [ -n "$why" ]; then
		fail=$((fail + 1))
		echo "FAIL $name ($size bytes): $why"
		head -c 2000 "$out" | head -n 20 | sed 's/^/    /'
	else
		pass=$((pass + 1))
		[ -n "$verbose" ] || [ -n "$note" ] &&
			printf '%-4s %-30s exit %s  %10s bytes  %6s s  %5s MiB%s\n' \
				ok "$name" "$status" "$size" "$secs" "$mib" "$note"
	fi
	[ -n "${HOSTILE_KEEP:-}" ] || rm -f "$f" "$out" "$tv"
}

# rep N TEXT: TEXT N times, without separator.
rep() { awk -v n="$1" -v s="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%s", s }'; }

# --- nesting ------------------------------------------------------------
{ printf 'activation f(x) = '; rep 10000 '('; printf 'x'; rep 10000 ')'
  printf '\nmodel m {\n    input x[4]\n    dense(2, f)\n}\n'; } >"$dir/deep_parens.nn"
run deep_parens 1
{ printf 'activation f(x) = '; rep 100000 '-'; printf 'x\n'; } >"$dir/deep_unary_minus.nn"
run deep_unary_minus 1
{ printf 'activation f(x) = x'; rep 100000 '^x'; printf '\n'; } >"$dir/deep_power.nn"
run deep_power 1
{ printf 'activation f(x) = x'; rep 100000 ' + x'; printf '\n'; } >"$dir/long_sum.nn"
run long_sum 1
{ printf 'activation f(x) = '; rep 10000 'sin('; printf 'x'; rep 10000 ')'; printf '\n'; } >"$dir/deep_calls.nn"
run deep_calls 1
{ printf 'model m {\n    input x'; rep 100000 '['; printf '\n}\n'; } >"$dir/deep_brackets.nn"
run deep_brackets 1
{ printf 'model m {\n    input x[4]\n    dense'; rep 100000 '('; printf '4\n}\n'; } >"$dir/deep_call_parens.nn"
run deep_call_parens 1
rep 100000 '{' >"$dir/deep_braces.nn"
run deep_braces 1
# Inlining and derivatives that would grow exponentially: each activation
# uses the previous one twice (2^40 nodes if inlined naively), and a tower
# of 60 sines whose derivative is a product of 60 cosines of towers.
{ printf 'activation a0(x) = sin(x)\n'
  awk 'BEGIN { for (i = 1; i <= 40; i++) printf "activation a%d(x) = a%d(x) * a%d(x)\n", i, i - 1, i - 1 }'
  printf 'model m {\n    input x[4]\n    dense(2, a40)\n}\n'; } >"$dir/inline_blowup.nn"
run inline_blowup 1
{ printf 'activation f(x) = '; rep 60 'sin(x * '; printf 'x'; rep 60 ')'
  printf '\nmodel m {\n    input x[4]\n    dense(2, f)\n}\n'; } >"$dir/derivative_blowup.nn"
run derivative_blowup

# --- length -------------------------------------------------------------
{ printf 'model m {\n    input x[4]\n    x'; rep 100000 ' -> relu'; printf '\n}\n'; } >"$dir/chain_100k.nn"
run chain_100k 0
{ printf 'model m {\n    input x[4]\n    x'; rep 100000 ' -> dense(4)'; printf '\n    loss mse\n}\n'; } >"$dir/chain_100k_dense.nn"
run chain_100k_dense 0
{ printf 'model m {\n    input x[4]\n'
  awk 'BEGIN { for (i = 0; i < 1000000; i++) print "    dense(4, relu)" }'
  printf '    loss mse\n}\n'; } >"$dir/layers_1m.nn"
run layers_1m 0
{ printf 'model m {\n    input x[4]\n'
  awk 'BEGIN { for (i = 0; i < 100000; i++) printf "    t%d = dense(4)\n", i }'
  printf '}\n'; } >"$dir/tensors_100k.nn"
run tensors_100k 0
awk 'BEGIN { for (i = 0; i < 10000; i++) printf "model m%d {\n    input x[4]\n    dense(2)\n}\n", i }' \
	>"$dir/models_10k.nn"
run models_10k 0
awk 'BEGIN { for (i = 0; i < 10000; i++) printf "model m {\n    input x[4]\n}\n" }' \
	>"$dir/models_10k_same_name.nn"
run models_10k_same_name 1
awk 'BEGIN { for (i = 0; i < 10000; i++) printf "activation a%d(x) = x * %d\n", i, i }' \
	>"$dir/activations_10k.nn"
run activations_10k 0
# Quadratic once: model names compared with every earlier one (14.7 s).
awk 'BEGIN { for (i = 0; i < 40000; i++) printf "model m%d {\n    input x[4]\n    dense(2)\n    loss mse\n}\n", i }' \
	>"$dir/models_40k.nn"
run models_40k 0
# Quadratic once: activation names and layer counters found by linear
# search (7.6 s for 100k layers).
awk 'BEGIN { for (i = 0; i < 10000; i++) printf "activation a%d(x) = x * %d\n", i, i
             print "model m {\n    input x[4]"
             for (i = 0; i < 200000; i++) printf "    a%d\n", 9999 - i % 10000
             print "    loss mse\n}" }' >"$dir/custom_activation_layers_200k.nn"
run custom_activation_layers_200k 0
# Quadratic once: a "did you mean" computed for every error, printed or
# not (6.7 s for 10k).
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "activation a%d(x) = zz%d(x)\n", i, i }' \
	>"$dir/unknown_functions_20k.nn"
run unknown_functions_20k 1
# Quadratic once, in time and memory: the summary's "Connected to" cell
# rebuilt for every input (9.7 s and 1.4 GB for 20k).
awk 'BEGIN { print "model m {\n    input x[4]"
             for (i = 0; i < 50000; i++) printf "    t%d = x -> dense(1)\n", i
             printf "    concat(t0"; for (i = 1; i < 50000; i++) printf ", t%d", i
             print ")\n    loss mse\n}" }' >"$dir/concat_50k.nn"
run concat_50k 0
awk 'BEGIN { for (i = 0; i < 100000; i++) print "model m { input x[4] dense(2) } }" }' \
	>"$dir/errors_100k.nn"
run errors_100k 1
# A model, then 100 MB of comments; and one line of 100 MB of spaces.
{ printf 'model m {\n    input x[4]\n    dense(2)\n}\n'
  yes '# a comment line of forty-odd bytes ....' | head -c 100000000; } >"$dir/comments_100mb.nn"
run comments_100mb 0
{ head -c 100000000 /dev/zero | tr '\0' ' '; printf 'model m {\n    input x[4]\n}\n'; } \
	>"$dir/spaces_100mb.nn"
run spaces_100mb 0
# An error at the end of a 10 MB line: the diagnostic quotes the line.
{ head -c 10000000 /dev/zero | tr '\0' ' '; printf '$\n'; } >"$dir/error_after_10mb_line.nn"
run error_after_10mb_line 1
{ printf 'model '; rep 1000000 'a'; printf ' {\n    input x[4]\n}\n'; } >"$dir/identifier_1mb.nn"
run identifier_1mb 1
{ printf 'model m {\n    input '; rep 1000000 'x'; printf '[4]\n    dense(2)\n}\n'; } >"$dir/tensor_name_1mb.nn"
run tensor_name_1mb 1
{ printf 'model m {\n    input x[4]\n    dense('; rep 1000000 '9'; printf ')\n}\n'; } >"$dir/number_1mb.nn"
run number_1mb 1
{ printf 'model m {\n    input x[4]\n    dense(0.'; rep 1000000 '0'; printf '1)\n}\n'; } >"$dir/fraction_1mb.nn"
run fraction_1mb 1

# --- bytes --------------------------------------------------------------
printf 'model m\000x {\n    input x[4]\n}\n' >"$dir/nul_in_identifier.nn"
run nul_in_identifier 1
printf '# a comment \000 with a NUL\nmodel m {\n    input x[4]\n    dense(2)\n}\n' >"$dir/nul_in_comment.nn"
run nul_in_comment 0
head -c 100000 /dev/zero >"$dir/nul_100k.nn"
run nul_100k 1
printf 'model m\377\376x {\n    input x\300\200[4]\n}\n' >"$dir/invalid_utf8_identifier.nn"
run invalid_utf8_identifier 1
printf '# \377\376 \300\200 \355\240\200\nmodel m {\n    input x[4]\n    dense(2)\n}\n' >"$dir/invalid_utf8_comment.nn"
run invalid_utf8_comment 0
printf 'model m {\n    input x[4]\n    dense(2, r\303\251lu)\n}\n' >"$dir/utf8_identifier.nn"
run utf8_identifier 1
head -c 1000000 /dev/urandom >"$dir/random_1mb.nn"
run random_1mb 1
printf 'model m {\r    input x[4]\r    dense(2)\r}\r' >"$dir/cr_line_ends.nn"
run cr_line_ends
printf '\357\273\277model m {\r\n    input x[4]\r\n    dense(2)\r\n}\r\n' >"$dir/bom_crlf.nn"
run bom_crlf
: >"$dir/empty.nn"
run empty 0

# --- numbers ------------------------------------------------------------
model() { printf 'model m {\n%s\n}\n' "$1" >"$dir/$2.nn"; run "$2" "${3:-1}"; }
model '    input x[4]
    dense(99999999999999999999)' dense_units_1e20
model '    input x[4294967296]' input_dim_2p32
model '    input x[2147483647, 2147483647]
    dense(1)' input_elems_overflow
model '    input x[65536, 65536, 65536, 65536, 65536, 65536, 65536, 65536]' input_rank8_overflow
model '    input x[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]' input_rank_20
model '    input x[2147483647]
    dense(2147483647)' dense_params_overflow
model '    input x[4]
    dense(2)
    loss mse
    batch 1e308' batch_1e308
model '    input x[4]
    dense(2)
    loss mse
    batch 2147483647
    epochs 9223372036854775807' batch_epochs_max
model '    input x[4]
    dense(2)
    loss mse
    epochs 1e400' epochs_1e400
model '    input x[4]
    dense(2)
    loss mse
    seed -1
    optimizer adam(learning_rate = 1e-400, beta_1 = -0.0, epsilon = 1e308)' settings_extremes
model '    input x[4]
    dropout(1e-320)
    dropout(0.99999999999999999)
    dense(2)' dropout_extremes any
model '    input x[4]
    dense(-9223372036854775808)' dense_int64_min
printf 'activation f(x) = x ^ 1e308 * 1e-308 / 0 + 1e308 * 1e308\nmodel m {\n    input x[4]\n    dense(2, f)\n}\n' \
	>"$dir/activation_huge_constants.nn"
run activation_huge_constants any
printf 'activation f(x) = log(0 * x) / (x - x) ^ -1\nmodel m {\n    input x[4]\n    dense(2, f)\n}\n' \
	>"$dir/activation_division_by_zero.nn"
run activation_division_by_zero any

# --- unterminated at end of file -----------------------------------------
unterminated() { printf '%s' "$1" >"$dir/$2.nn"; run "$2" 1; }
unterminated 'model m {' eof_model_brace
unterminated 'model m' eof_model_name
unterminated 'model' eof_model_keyword
unterminated 'activation f(x) = (x' eof_activation_paren
unterminated 'activation f(x) =' eof_activation_equals
unterminated 'activation f(' eof_activation_param
unterminated 'model m {
    input x[4]
    dense(' eof_dense_paren
unterminated 'model m {
    input x[' eof_input_bracket
unterminated 'model m {
    input x[4]
    dense(4) ->' eof_arrow
unterminated 'model m {
    input x[4]
    dense(4)
    optimizer adam(learning_rate =' eof_optimizer_arg
unterminated 'model m {
    input x[4]
    y = ' eof_assignment
printf '# only a comment, no newline' >"$dir/eof_comment.nn"
run eof_comment 0
unterminated 'model m { input x[4] dense(activation = ' eof_keyword_arg

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
