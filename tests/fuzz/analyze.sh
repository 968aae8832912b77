#!/bin/sh
# analyze.sh — static analysis of nnc's C sources; exits non-zero on any
# finding.  Two analyzers that complement each other and run clean:
#
#   cppcheck --enable=warning,portability,performance
#       whole-program checks (null pointers across calls, leaks, buffer
#       sizes, format strings).  -D__GNUC__ makes it see NNC_NORETURN and
#       NNC_PRINTF, so DIE() ends a path, and checks the one configuration
#       we build (plus gemm.c without BLAS).  False positives are suppressed
#       inline (`cppcheck-suppress id` with a comment saying why), except
#       in the list below.
#   gcc -fanalyzer
#       path-sensitive checks of each file (use after free, double free,
#       leaks, NULL dereference, file-descriptor leaks).
#
# Not used: clang-tidy's clang-analyzer-* and bugprone-*.  Over our sources
# (clang-tidy 14) they give ~160 warnings, nearly all noise
# (insecureAPI.DeprecatedOrUnsafeBufferHandling on every memcpy and
# snprintf, valist.Uninitialized on every va_list, easily-swappable-
# parameters), and the path-sensitive rest repeats -fanalyzer while taking
# two minutes.  The generated scanner and parser are not analyzed either:
# what the analyzers flag there is in flex's and bison's skeletons.
#
#   tests/fuzz/analyze.sh          both analyzers, about 40 s on 2 cores
#   ANALYZE_JOBS=4 tests/fuzz/analyze.sh
set -u
cd "$(dirname "$0")/../.." || exit 2
jobs=${ANALYZE_JOBS:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

# The generated headers the compiler's sources include.
bison --defines="$tmp/nn.tab.h" -o "$tmp/nn.tab.c" grammar/nn.y &&
	flex --header-file="$tmp/nn.lex.h" -o "$tmp/nn.lex.c" grammar/nn.l || exit 2
pkg=$(pkg-config --cflags openblas libcjson zlib 2>/dev/null)
srcs=$(ls compiler/*.c runtime/*.c)

# False positives in files whose owners should add an inline suppression:
#   emit.c autoVariables: E->out = &body is restored (E->out = saved)
#   before the function returns.
supp="--suppress=autoVariables:compiler/emit.c"

echo "== cppcheck"
# shellcheck disable=SC2086 # word lists on purpose
cppcheck --enable=warning,portability,performance --error-exitcode=1 \
	--inline-suppr -q -D__GNUC__ -D_POSIX_C_SOURCE=200809L \
	-I compiler -I runtime -I "$tmp" $supp \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
	compiler runtime || status=1
cppcheck --enable=warning,portability,performance --error-exitcode=1 \
	--inline-suppr -q -D__GNUC__ -DNNRT_NO_BLAS -I runtime \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
	runtime/gemm.c || status=1

echo "== gcc -fanalyzer"
# shellcheck disable=SC2086
echo "$srcs" | xargs -P "$jobs" -n 1 gcc -std=c11 -O0 -fanalyzer -Werror \
	-Icompiler -I"$tmp" -Iruntime -D_POSIX_C_SOURCE=200809L $pkg \
	-c -o /dev/null || status=1

if [ "$status" -eq 0 ]; then
	echo "analyze: no findings"
else
	echo "analyze: findings above"
fi
exit "$status"
