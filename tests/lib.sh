# lib.sh — what the test scripts (tests/{numeric,infer,e2e}/run.sh) share;
# sourced after they set $work.  (sh has no local variables: the
# functions of each script use distinct names.)
# shellcheck shell=sh disable=SC2154 # work: set by the script
pass=0
fail=0
log=$work/log

# check WHAT COMMAND...: runs COMMAND (a shell function or program) with
# its output in $log, and counts it; prints WHAT and the output if it
# failed.
check() {
	what=$1
	shift
	if "$@" >"$log" 2>&1; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $what"
		sed 's/^/    /' "$log"
	fi
}
