# oom.sh — end-to-end tests of generated trainers running out of memory,
# for real: failalloc.so (failalloc.c, loaded with LD_PRELOAD) makes their
# malloc, calloc and realloc fail.  Sourced by run.sh, in its working
# directory, with its $nnc, $here, $work and check and expect helpers.
#
# The sweeps run a command once to count its allocations, then once for
# each allocation failing alone (FAILALLOC_ONLY=N) and once for each from
# which on every allocation fails (FAILALLOC_AFTER=N).  Every run must
# either succeed with the same output, or fail with status 1, one line
# "PROG: error: ..." and no output written; the messages must include
# those of each out-of-memory path the command goes through.
# shellcheck shell=sh disable=SC2154 # nnc, here, work: set by run.sh

failalloc=$work/failalloc.so

# careers, and deep: 36 layers with long names, so that its weights
# header (9 KB) outgrows the 8 KiB a memory stream starts with; its loss
# takes one-hot targets.  Their layers are small enough to be unrolled, so
# OpenBLAS (which exits when an allocation of its own fails) is never
# called.  Compiled without optimization, to be quick.
{
	echo "model deep {"
	echo "    input x[3]"
	i=10
	while [ $i -lt 46 ]; do
		echo "    layer_${i}_with_a_long_name_so_that_the_weights_header_is_large = dense(1)"
		i=$((i + 1))
	done
	echo "    dense(3, softmax)"
	echo "    loss categorical_crossentropy"
	echo "    optimizer adam"
	echo "    batch 4"
	echo "}"
} >deep.nn
oom_build() {
	# shellcheck disable=SC2086 # CC may hold options
	${CC:-cc} -shared -fPIC -O2 -Wall -Wextra -Werror "$here/failalloc.c" \
		-o "$failalloc" &&
	"$nnc" build deep.nn --main -o oom &&
	make -s -f oom/deep.mk DEEP_CFLAGS="-std=c99 -O0" &&
	"$nnc" build careers.nn --main -o oom &&
	make -s -f oom/careers.mk CAREERS_CFLAGS="-std=c99 -O0"
}
check "the allocation-failure injector and two trainers build" oom_build

# 6 images of 3 pixels and their labels, as IDX files.
printf '\0\0\10\2\0\0\0\6\0\0\0\3' >img-idx2-ubyte
printf '\1\2\3\4\5\6\7\10\11\12\13\14\15\16\17\20\21\22' >>img-idx2-ubyte
printf '\0\0\10\1\0\0\0\6\0\1\2\0\1\2' >lbl-idx1-ubyte
# 400 rows for careers, so that predict's CSV (16 KB) outgrows 8 KiB too.
awk 'BEGIN { srand(2); for (i = 0; i < 400; i++)
	printf "%d,%d,%d,%d\n", rand() * 30, rand() * 30, rand() * 5, rand() * 3 }' \
	>many.csv

# sweep "OUT [MORE...]" COMMAND...: the sweeps above.  OUT is the file the
# command writes (run.out: its standard output), MORE other files it
# writes, which a failed run may leave (a history is compared without its
# seconds column).  The messages go to sweep.msgs.
sweep() {
	sw_files=$1
	shift
	sw_out=${sw_files%% *}
	sw_prog=$(basename "$1")
	: >sweep.msgs
	# shellcheck disable=SC2086 # a list of names
	rm -f $sw_files count.txt
	FAILALLOC_COUNT=count.txt LD_PRELOAD=$failalloc "$@" >run.out 2>run.err ||
		{ cat run.err; return 1; }
	outputs >sweep.want || return 1
	sw_total=$(cat count.txt)
	echo "$sw_total allocations"
	for sw_mode in ONLY AFTER; do
		sw_n=0
		while [ $sw_n -le "$sw_total" ]; do
			# shellcheck disable=SC2086
			rm -f $sw_files
			env "FAILALLOC_$sw_mode=$sw_n" LD_PRELOAD="$failalloc" "$@" \
				>run.out 2>run.err
			sw_status=$?
			if [ $sw_status = 0 ] && outputs | cmp -s sweep.want -; then
				:
			elif [ $sw_status = 1 ] && [ "$(wc -l <run.err)" = 1 ] &&
			     grep -q "^$sw_prog: error: " run.err && [ ! -s "$sw_out" ]; then
				cat run.err >>sweep.msgs
			else
				echo "FAILALLOC_$sw_mode=$sw_n: exit status $sw_status" \
					"(if 0, the outputs differ); stderr:"
				cat run.err
				return 1
			fi
			sw_n=$((sw_n + 1))
		done
	done
}

# The files of the sweep, one after the other, for cmp.
outputs() {
	for f in $sw_files; do
		case $f in
		*.hist) sed 's/,[^,]*$//' "$f" ;;
		*) cat "$f" ;;
		esac || return 1
	done 2>/dev/null
}

# has MESSAGE...: each MESSAGE is a line of sweep.msgs.
has() {
	for m in "$@"; do
		grep -qxF "$m" sweep.msgs || {
			echo "missing: $m"
			echo "messages:"
			sort -u sweep.msgs
			return 1
		}
	done
}

oom_train_csv() {
	sweep "deep.st deep.hist" oom/deep train --data careers.csv \
		--out deep.st --history deep.hist --quiet &&
	has "deep: error: careers.csv: out of memory after 0 rows" \
	    "deep: error: out of memory creating the model" \
	    "deep: error: deep.hist: out of memory" \
	    "deep: error: deep.st: cannot build header: Cannot allocate memory" \
	    "deep: error: deep.st: cannot build header: out of memory"
}
check "out of memory anywhere in train: an error, or the same weights and history" \
	oom_train_csv

oom_train_idx() {
	sweep deep.st oom/deep train --data img-idx2-ubyte \
		--labels lbl-idx1-ubyte --out deep.st --quiet &&
	has "deep: error: img-idx2-ubyte: out of memory after 0 images" \
	    "deep: error: lbl-idx1-ubyte: out of memory after 0 labels" \
	    "deep: error: lbl-idx1-ubyte: out of memory for 6 one-hot labels"
}
check "out of memory reading IDX files: an error, or the same weights" \
	oom_train_idx

oom_eval() {
	oom/careers train --data careers.csv --out careers.st --quiet &&
	sweep run.out oom/careers eval --weights careers.st --data careers.csv &&
	has "careers: error: out of memory creating the model" \
	    "careers: error: careers.st: out of memory reading the file"
}
check "out of memory anywhere in eval: an error, or the same figures" \
	oom_eval

oom_predict() {
	sweep many.pred oom/careers predict --weights careers.st \
		--data many.csv --out many.pred &&
	has "careers: error: cannot write the predictions: Cannot allocate memory" \
	    "careers: error: out of memory" \
	    "careers: error: many.pred: out of memory"
}
check "out of memory anywhere in predict --out: an error, or the same CSV" \
	oom_predict

# Memory that runs out part of the way through a file: the rows read so
# far are counted.  careers.csv holds 3 inputs a row, and the inputs'
# buffer doubles from 1024 floats: at 2048 (8 KiB) it holds 682 rows, and
# the next size, 16 KiB, is over the limit.
awk 'BEGIN { for (i = 0; i < 3000; i++) print i % 7 "," i % 5 "," i % 3 "," i % 3 }' \
	>rows.csv
printf '%s\n' "careers: error: rows.csv: out of memory after 682 rows" >want.txt
check "out of memory after some rows of a CSV file" \
	expect 1 want.txt env FAILALLOC_OVER=12000 LD_PRELOAD="$failalloc" \
	oom/careers train --data rows.csv --out rows.st --quiet

# nnc itself: nnc build with one allocation failing at a time.  Every run
# either writes the same files, or exits 3 with "nnc: out of memory (...)"
# (or 1 with an error, as the parser's "memory exhausted") and leaves no
# truncated file: a file it wrote is whole.  Before the fix, a memory
# stream that could not grow gave a truncated deep.c and exit 0.
oom_nnc_build() {
	rm -rf oomc count.txt
	FAILALLOC_COUNT=count.txt LD_PRELOAD=$failalloc "$nnc" build deep.nn \
		--main -o oomc >run.out 2>run.err || { cat run.err; return 1; }
	nb_total=$(cat count.txt)
	echo "$nb_total allocations"
	cp oomc/deep.c want.c && cp oomc/deep.h want.h && cp oomc/main.c want-main.c ||
		return 1
	nb_oom=0
	nb_n=1
	while [ $nb_n -le "$nb_total" ]; do
		rm -rf oomc
		FAILALLOC_ONLY=$nb_n LD_PRELOAD=$failalloc "$nnc" build deep.nn \
			--main -o oomc >run.out 2>run.err
		nb_status=$?
		for f in deep.c deep.h main.c; do
			want=want.${f#*.}
			[ $f = main.c ] && want=want-main.c
			if [ -e oomc/$f ] && ! cmp -s "$want" oomc/$f; then
				echo "FAILALLOC_ONLY=$nb_n: oomc/$f differs (exit $nb_status)"
				cat run.err
				return 1
			fi
		done
		case $nb_status in
		0) [ -e oomc/deep.c ] && [ -e oomc/deep.h ] && [ -e oomc/main.c ] ||
			{ echo "FAILALLOC_ONLY=$nb_n: exit 0 without every file"; return 1; } ;;
		3) grep -q '^nnc: out of memory (' run.err || { cat run.err; return 1; }
		   nb_oom=$((nb_oom + 1)) ;;
		1) grep -q 'error: ' run.err || { cat run.err; return 1; } ;;
		*) echo "FAILALLOC_ONLY=$nb_n: exit status $nb_status"; cat run.err
		   return 1 ;;
		esac
		# every allocation of the last 400 (writing the files), every
		# 37th before (reading, checking, planning): a few seconds
		if [ $nb_n -lt $((nb_total - 400)) ]; then
			nb_n=$((nb_n + 37))
		else
			nb_n=$((nb_n + 1))
		fi
	done
	echo "$nb_oom runs out of memory"
	[ "$nb_oom" -gt 0 ]
}
check "out of memory anywhere in nnc build: an error, or the same files" \
	oom_nnc_build
