#!/bin/sh
# run.sh — end-to-end tests of nnc train, eval, predict and build --main:
# nnc generates a model's trainer, compiles it into its cache and runs it on
# the examples' data; the tests check what the user sees (exact messages
# where they are stable), the files written, the cache and resuming, and
# (oom.sh) trainers running out of memory.
#
#   tests/e2e/run.sh NNC [WORKDIR]
#   e.g. tests/e2e/run.sh build/nnc          (scratch: a temporary directory)
#
# NNC must sit beside libnnrt.a (build/nnc, build/libnnrt.a), as nnc looks
# for its runtime there.  Everything runs in WORKDIR with its own cache
# (NNC_CACHE_DIR), so the first run of each model compiles.  Prints a line
# per failure with its log, then "N passed, N failed"; exits 1 if anything
# failed.  Needs a C compiler, make, setsid (util-linux), OpenBLAS, cJSON
# and zlib.
set -u
if [ $# -lt 1 ]; then
	echo "usage: $0 NNC [WORKDIR]" >&2
	exit 2
fi
nnc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ $# -ge 2 ]; then
	work=$2
	rm -rf "$work"
	mkdir -p "$work"
	work=$(cd "$work" && pwd)
else
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi
NNC_CACHE_DIR=$work/cache
export NNC_CACHE_DIR
# SANFLAGS (make SANITIZE=1): the trainers nnc compiles, and those of
# build --main, are instrumented like the runtime they link.
san=${SANFLAGS:-}
if [ -n "$san" ]; then
	CC="${CC:-cc} $san"
	export CC
fi
unset NNC_RUNTIME_DIR
cd "$work" || exit 1
cp "$root"/examples/*.nn "$root"/examples/*.csv .
# shellcheck source=tests/lib.sh
. "$root/tests/lib.sh"

# expect STATUS FILE COMMAND...: COMMAND exits with STATUS and prints
# exactly FILE's text (stdout and stderr together).
expect() {
	ex_status=$1 ex_file=$2
	shift 2
	"$@" >out.txt 2>&1
	ex_got=$?
	if [ "$ex_got" != "$ex_status" ]; then
		echo "exit status $ex_got, expected $ex_status; output:"
		cat out.txt
		return 1
	fi
	diff -u "$ex_file" out.txt
}

# --- training the examples -------------------------------------------------

xor_trains() {
	"$nnc" train xor.nn --data xor.csv --quiet || return 1
	"$nnc" eval xor.nn --weights xor.safetensors --data xor.csv >eval.txt ||
		return 1
	cat eval.txt
	grep -Eq '^loss: [0-9]+\.[0-9]{4} - accuracy: 1\.0000$' eval.txt
}
check "xor: nnc train reaches accuracy 1.0 (nnc eval)" xor_trains

grades_learns() {
	"$nnc" train grades.nn --data grades.csv --history grades.csv.hist \
		--quiet || return 1
	head -1 grades.csv.hist
	[ "$(head -1 grades.csv.hist)" = "epoch,loss,seconds" ] || return 1
	[ "$(wc -l <grades.csv.hist)" -eq 101 ] || return 1
	first=$(sed -n 2p grades.csv.hist | cut -d, -f2)
	last=$(tail -1 grades.csv.hist | cut -d, -f2)
	echo "loss $first -> $last"
	awk -v a="$first" -v b="$last" 'BEGIN { exit !(b * 10 <= a) }'
}
check "grades: the loss falls at least 10x (--history)" grades_learns

careers_trains() {
	"$nnc" train careers.nn --data careers.csv --val careers.csv \
		--history careers.hist --quiet &&
	[ -s careers.safetensors ] &&
	[ "$(head -1 careers.hist)" = \
	  "epoch,loss,accuracy,val_loss,val_accuracy,seconds" ]
}
check "careers: trains, with validation" careers_trains

# predict: one row per input row, a header, and a class for classifiers.
predict_shapes() {
	"$nnc" predict xor.nn --weights xor.safetensors --data xor.csv \
		--out xor.pred.csv || return 1
	cat xor.pred.csv
	[ "$(head -1 xor.pred.csv)" = "p0,class" ] || return 1
	[ "$(sed 1d xor.pred.csv | wc -l)" -eq 4 ] || return 1
	# the classes are XOR's labels, the last column of xor.csv
	[ "$(sed 1d xor.pred.csv | cut -d, -f2 | tr '\n' ' ')" = "0 1 1 0 " ] ||
		return 1
	"$nnc" predict grades.nn --weights grades.safetensors \
		--data grades_new.csv >grades.pred.csv || return 1
	cat grades.pred.csv
	[ "$(head -1 grades.pred.csv)" = "y0,y1" ] &&
	[ "$(sed 1d grades.pred.csv | wc -l)" -eq 2 ] &&
	[ "$(sed 1d grades.pred.csv | awk -F, '{ print NF }' | sort -u)" = 2 ] &&
	"$nnc" predict careers.nn --weights careers.safetensors \
		--data careers.csv >careers.pred.csv &&
	[ "$(head -1 careers.pred.csv)" = "p0,p1,p2,class" ] &&
	[ "$(sed 1d careers.pred.csv | wc -l)" -eq 8 ] &&
	[ "$(sed 1d careers.pred.csv | awk -F, '{ print NF }' | sort -u)" = 4 ]
}
check "predict: rows, columns, header and class column" predict_shapes

# --- the cache ---------------------------------------------------------------

cache_hit() {
	exe=$(ls "$NNC_CACHE_DIR"/*/xor) || return 1
	before=$(ls -l --time-style=full-iso "$exe")
	"$nnc" eval xor.nn --weights xor.safetensors --data xor.csv --verbose \
		>v.out 2>v.err || return 1
	cat v.err
	grep -q '^nnc: cache hit: ' v.err && ! grep -q 'cache miss' v.err &&
	[ "$(ls -l --time-style=full-iso "$exe")" = "$before" ] &&
	# one build each of xor, grades and careers
	[ "$(find "$NNC_CACHE_DIR" -mindepth 1 -maxdepth 1 | wc -l)" -eq 3 ]
}
check "a second run hits the cache and does not recompile" cache_hit

# nnc checks the trainer's options before it compiles a trainer, from its
# own list (compiler/main.c); the trainer parses them from runtime/cli.c.
# Both --help texts must list the same options for each command (nnc's
# own --model and --verbose, and the trainer's --help, aside).
same_options() {
	exe=$(ls "$NNC_CACHE_DIR"/*/xor) || return 1
	for mode in train eval predict; do
		"$exe" "$mode" --help 2>&1 | grep -o -- '^  --[a-z-]*' |
			grep -v -x -e '  --help' | sort >trainer.opts
		"$nnc" "$mode" --help 2>&1 | grep -o -- '^  --[a-z-]*' |
			grep -v -x -e '  --model' -e '  --verbose' | sort >nnc.opts
		[ -s trainer.opts ] || return 1
		diff -u trainer.opts nnc.opts || return 1
	done
}
check "nnc train, eval and predict list the trainer's own options" same_options

cache_miss_verbose() {
	cp xor.nn xor2.nn
	echo "# a comment changes the banner, so the sources" >>xor2.nn
	"$nnc" eval xor2.nn --weights xor.safetensors --data xor.csv --verbose \
		>v.out 2>v.err || return 1
	cat v.err
	grep -q '^nnc: cache miss: ' v.err &&
	grep -Eq '^nnc:   cd .* && .*-std=c99 -O3 .* main\.c xor\.c .*libnnrt\.a .*-lm -pthread -o xor\.tmp\.[0-9]+$' v.err
}
check "--verbose shows a miss and the compiler command" cache_miss_verbose

# A copy of the runtime in rt/, as NNC_RUNTIME_DIR wants it.
make_rt() {
	mkdir -p rt &&
	cp "$(dirname "$nnc")/libnnrt.a" "$root/runtime/nnrt.h" \
		"$root/runtime/nnrt_data.h" rt/
}

# NNC_RUNTIME_DIR: a runtime elsewhere; the key follows its library.
runtime_dir() {
	make_rt || return 1
	NNC_RUNTIME_DIR=$work/rt "$nnc" eval xor.nn --weights xor.safetensors \
		--data xor.csv --verbose 2>v.err >/dev/null || return 1
	if ! grep -q "^nnc: runtime: $work/rt/libnnrt.a, headers in $work/rt (\$NNC_RUNTIME_DIR)" v.err ||
	   ! grep -q 'cache miss' v.err; then
		cat v.err
		return 1
	fi
	touch -d '2001-01-01' rt/libnnrt.a
	NNC_RUNTIME_DIR=$work/rt "$nnc" eval xor.nn --weights xor.safetensors \
		--data xor.csv --verbose 2>v.err >/dev/null || return 1
	grep -q 'cache miss' v.err || { cat v.err; return 1; }
	mkdir -p empty
	NNC_RUNTIME_DIR=$work/empty "$nnc" eval xor.nn --weights xor.safetensors \
		--data xor.csv
	[ $? = 1 ]
}
check "NNC_RUNTIME_DIR, and a changed libnnrt.a recompiles" runtime_dir

compile_failure() {
	cp xor.nn xor3.nn
	echo "# new sources: not in the cache" >>xor3.nn
	CC=false "$nnc" eval xor3.nn --weights xor.safetensors --data xor.csv \
		2>cf.err
	status=$?
	cat cf.err
	[ $status = 1 ] &&
	grep -q "^nnc: internal error: the C generated for model 'xor' did not compile" cf.err &&
	! ls "$NNC_CACHE_DIR"/*/xor.tmp.* 2>/dev/null
}
check "a compiler failure is reported as an internal error" compile_failure

# --- nnc build --main: a trainer without nnc ---------------------------------

build_main() {
	"$nnc" build careers.nn --main -o standalone || return 1
	ls standalone
	[ -f standalone/main.c ] && [ -f standalone/careers.mk ] || return 1
	grep -q "^NNRT_DIR *?= $(cd "$(dirname "$nnc")" && pwd)\$" \
		standalone/careers.mk || return 1
	make -s -f standalone/careers.mk || return 1
	# no nnc on the way: the program alone trains, evaluates, predicts
	(cd standalone && PATH=/usr/bin:/bin ./careers train \
		--data ../careers.csv --quiet --epochs 50 &&
	 ./careers eval --weights careers.safetensors --data ../careers.csv &&
	 ./careers predict --weights careers.safetensors --data ../careers.csv \
		>/dev/null) || return 1
	# and NNRT_DIR points it at a runtime elsewhere
	rm standalone/careers
	make_rt || return 1
	make -s -f standalone/careers.mk NNRT_DIR="$work/rt" NNRT_INCLUDE="$work/rt" &&
	[ -x standalone/careers ]
}
check "nnc build --main, then make -f NAME.mk builds a working trainer" \
	build_main

# A generated trainer under valgrind: no invalid accesses, no leaks, in
# train (with validation, history and checkpoints), eval and predict, with
# its dense layers unrolled and through GEMM.
valgrind_clean() {
	vg="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9"
	for limit in 64 0; do
		rm -rf vg && "$nnc" build careers.nn --main --unroll-limit $limit -o vg &&
		make -s -f vg/careers.mk || return 1
		(cd vg && $vg ./careers train --data ../careers.csv --val ../careers.csv \
			--epochs 4 --quiet --history h.csv --checkpoint-every 2 &&
		 $vg ./careers eval --weights careers.safetensors --data ../careers.csv &&
		 $vg ./careers predict --weights careers.safetensors \
			--data ../careers.csv >/dev/null) || return 1
	done
}
# valgrind cannot run a program built with ASan: the plain run has this
# test, the sanitized run (make SANITIZE=1 suite) ASan's checks instead.
if [ -z "$san" ]; then
	check "valgrind: a generated trainer has no memory errors or leaks" \
		valgrind_clean
fi

# --- errors ------------------------------------------------------------------

printf 'x1,x2,y\n0,0,0\n0,1\n' >cols.csv
printf 'x1,x2,y\n0,0,0\n0,x,1\n' >word.csv
printf 'x1,x2,y\n0,0,0\n1,nan,1\n' >nan.csv
: >empty.csv
printf 'a,b,c,y\n2,24,4,0\n5,22,3,3\n' >class.csv
cp xor.safetensors xor.kept

data_error() { # FILE.nn DATA MESSAGE
	printf '%s\n' "$3" >want.txt
	expect 1 want.txt "$nnc" train "$1" --data "$2" --out xor.safetensors \
		--quiet || return 1
	cmp xor.safetensors xor.kept
}
check "wrong column count" data_error xor.nn cols.csv \
	"nnc: error: cols.csv:3: expected 3 columns (2 inputs + 1 target), got 2"
check "not a number" data_error xor.nn word.csv \
	"nnc: error: word.csv:3:3: expected a number, got 'x'"
check "NaN" data_error xor.nn nan.csv \
	"nnc: error: nan.csv:3:3: value 'nan' is not a finite number"
check "empty file" data_error xor.nn empty.csv \
	"nnc: error: empty.csv: no data rows"
check "class id out of range" data_error careers.nn class.csv \
	"nnc: error: class.csv:3:8: class id 3 is out of range (the model has 3 classes: 0 to 2)"

usage() { # STATUS MESSAGE ARGS...
	us_status=$1
	printf '%s\n' "$2" >want.txt
	shift 2
	expect "$us_status" want.txt "$nnc" "$@"
}
check "--epochs 0" usage 2 "nnc: error: --epochs must be a positive integer, got '0'
(run 'nnc --help' for usage)" train xor.nn --data xor.csv --epochs 0
check "a misspelt option" usage 2 "nnc: error: unknown option '--epoch' for 'nnc train'; did you mean '--epochs'?
(run 'nnc --help' for usage)" train xor.nn --data xor.csv --epoch 3
check "eval without --weights" usage 2 "nnc: error: 'nnc eval' needs --weights FILE
(run 'nnc --help' for usage)" eval xor.nn --data xor.csv
check "a train option given to predict" usage 2 "nnc: error: --history is an option of 'nnc train', not of 'nnc predict'
(run 'nnc --help' for usage)" predict xor.nn --weights w --data xor.csv --history h
# An option that takes a value, last on the line (the golden tests put the
# file last, so they cannot show these).
check "--model without a name" usage 2 "nnc: error: --model needs a model name
(run 'nnc --help' for usage)" check xor.nn --model
check "build's -o without a directory" usage 2 "nnc: error: -o needs a directory
(run 'nnc --help' for usage)" build xor.nn -o
check "plot's -o without a file name" usage 2 "nnc: error: -o needs a file name
(run 'nnc --help' for usage)" plot xor.csv -o
check "--precision without a value" usage 2 "nnc: error: --precision needs f32 or f64
(run 'nnc --help' for usage)" build xor.nn --precision
check "--unroll-limit without a value" usage 2 "nnc: error: --unroll-limit needs a number
(run 'nnc --help' for usage)" build xor.nn --unroll-limit
cat >noloss.nn <<'EOF'
model noloss {
    input x[2]
    dense(1)
}
EOF
check "a model without a loss cannot be trained" usage 1 "noloss.nn:1:7: warning: model 'noloss' has no loss: it can be used for inference only
    1 | model noloss {
      |       ^~~~~~
noloss.nn: note: add e.g. 'loss mse' to train it
noloss.nn:1:7: error: model 'noloss' has no loss: there is nothing to train
    1 | model noloss {
      |       ^~~~~~
1 warning and 1 error generated." train noloss.nn --data xor.csv
check "build --main of a model without a loss" usage 1 "noloss.nn:1:7: warning: model 'noloss' has no loss: it can be used for inference only
    1 | model noloss {
      |       ^~~~~~
noloss.nn: note: add e.g. 'loss mse' to train it
noloss.nn:1:7: error: model 'noloss' has no loss: there is nothing to train; build it without --main
    1 | model noloss {
      |       ^~~~~~
1 warning and 1 error generated." build noloss.nn --main -o noloss.out
cat >bad.nn <<'EOF'
model bad {
    input x[2]
    dense(4, tanhh)
    loss mse
}
EOF
front_end_error() {
	"$nnc" train bad.nn --data xor.csv 2>bad.err
	status=$?
	cat bad.err
	[ $status = 1 ] && grep -q "unknown activation 'tanhh'" bad.err &&
	! ls "$NNC_CACHE_DIR"/*/bad 2>/dev/null
}
check "a front-end error stops before compiling" front_end_error

# --- resuming from a checkpoint ----------------------------------------------

# adam (optimizer state and step), dropout (its RNG), two batches an epoch
cat >resume.nn <<'EOF'
model resume {
    input x[3]
    dense(8, relu)
    dropout(0.25)
    dense(3, softmax)
    loss sparse_categorical_crossentropy
    optimizer adam(learning_rate = 0.01)
    metrics accuracy
    batch 4
    epochs 6
    seed 7
}
EOF
resume_same() { # OPTIONS...
	"$nnc" train resume.nn --data careers.csv --quiet --out full.st "$@" &&
	"$nnc" train resume.nn --data careers.csv --quiet --epochs 3 \
		--checkpoint-every 3 --checkpoint half.ckpt --out half.st "$@" &&
	"$nnc" train resume.nn --data careers.csv --quiet --init half.ckpt \
		--out resumed.st "$@" &&
	! cmp -s half.st full.st &&
	cmp resumed.st full.st
}
check "resume from epoch 3 = 6 epochs at once (--no-shuffle)" \
	resume_same --no-shuffle
check "resume from epoch 3 = 6 epochs at once (shuffled)" resume_same

init_weights() {
	# a plain weights file: epoch 0, a fresh optimizer
	"$nnc" train resume.nn --data careers.csv --quiet --init half.st \
		--epochs 1 --out w1.st && [ -s w1.st ]
}
check "--init takes a plain weights file too" init_weights

# --- atomic saves --------------------------------------------------------------

# A model whose files are large (1.1M parameters: a 13 MB checkpoint with
# adam's moments) on 64 rows, so that a run is mostly writing them: a loop
# of training two epochs (a checkpoint after each, then the weights and the
# history), generating the C and writing predictions, killed with SIGKILL
# at random moments.  Whatever files are there must load, and be whole.
# The writes are atomic (a temporary file renamed into place), so at worst
# a stray NAME.tmp.PID is left behind.
awk 'BEGIN { srand(1); for (i = 0; i < 64; i++) { s = ""; t = 0;
	for (j = 0; j < 32; j++) { v = rand(); t += v * (j % 3);
		s = s sprintf("%.3f,", v) } print s int(t) % 10 } }' >big.csv
cat >big.nn <<'EOF'
model big {
    input x[32]
    dense(1024, relu)
    dense(1024, relu)
    dense(10, softmax)
    loss sparse_categorical_crossentropy
    optimizer adam
    batch 32
    epochs 2
}
EOF
# 34,186 parameters: the optimizer update, the clearing of gradients and the
# larger matrix products are split over the runtime's threads
# (runtime/pool.c, runtime/gemm.c).  However they are split, the result is
# the same to the bit; with one thread nothing is split and OpenBLAS picks
# other kernels for the whole products, so only the last bits may differ.
cat >wide.nn <<'EOF'
model wide {
    input x[256]
    dense(128, relu)
    dense(10, softmax)
    loss sparse_categorical_crossentropy
    optimizer adam(learning_rate = 0.001)
    batch 16
    epochs 3
}
EOF
awk 'BEGIN { srand(3); for (r = 0; r < 100; r++) { for (c = 0; c < 256; c++)
	printf "%.3f,", rand(); print int(rand() * 10) } }' >wide.csv
threads_same() {
	for t in 1 2 3 4; do
		NNRT_NUM_THREADS=$t "$nnc" train wide.nn --data wide.csv --quiet \
			--out "t$t.st" || return 1
		"$nnc" eval wide.nn --weights "t$t.st" --data wide.csv >"t$t.txt" ||
			return 1
	done
	cmp t2.st t3.st && cmp t2.st t4.st && cmp t1.txt t2.txt
}
check "2, 3 or 4 threads train the same weights, bit for bit; 1 the same loss" \
	threads_same

killed_saves() {
	# The files each killed write must leave whole: training is
	# deterministic, so every run writes the same weights, predictions,
	# history (but for its seconds; up to the epochs done) and generated
	# C as this first one.
	"$nnc" train big.nn --data big.csv --quiet --out big.st \
		--history big.hist || return 1
	"$nnc" predict big.nn --weights big.st --data big.csv --out big.pred ||
		return 1
	cp big.pred want.pred
	sed 's/,[^,]*$//' big.hist >want.hist
	"$nnc" build big.nn -o gen || return 1
	cp gen/big.c want.c
	cp big.st want.st
	for delay in $(awk 'BEGIN { srand(); for (i = 0; i < 5; i++)
	                          printf "%.2f ", 0.2 + rand() * 0.8 }'); do
		# the loop in a process group of its own, to kill it whole
		setsid sh -c 'while "$1" train big.nn --data big.csv --quiet \
			--checkpoint-every 1 --checkpoint big.ckpt --out big.st \
			--history big.hist &&
			"$1" build big.nn -o gen &&
			"$1" predict big.nn --weights want.st --data big.csv \
				--out big.pred; do
			:; done' sh "$nnc" &
		pid=$!
		sleep "$delay"
		kill -KILL -"$pid"
		wait "$pid" 2>/dev/null
		echo "killed after ${delay}s; temporary files left:" \
			"$(find . -maxdepth 1 -name '*.tmp.*' | wc -l)"
		for f in big.st big.ckpt; do
			if [ -f $f ]; then
				"$nnc" eval big.nn --weights $f --data big.csv || return 1
			fi
		done
		cmp want.pred big.pred || return 1
		# rewritten after every epoch: the epochs so far, whole lines
		sed 's/,[^,]*$//' big.hist >got.hist
		head -n "$(wc -l <got.hist)" want.hist | cmp - got.hist ||
			return 1
		cmp want.c gen/big.c || return 1
	done
	[ -f big.ckpt ]
}
check "SIGKILL during writes leaves loadable weights and checkpoints and
whole predictions, history and generated C" killed_saves

# --- out of memory -------------------------------------------------------------

# Allocation failures injected with LD_PRELOAD (oom.sh), which ASan, with
# a malloc of its own, does not allow: not in the sanitized run.
if [ -z "$san" ]; then
	. "$here/oom.sh"
fi

echo "e2e: $pass passed, $fail failed"
[ $fail = 0 ]
