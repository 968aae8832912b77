#!/bin/sh
# demo.sh — the main demo (`make demo`): check, train, evaluate and use the
# course's models with nnc, then show where the generated C is.
#
#   examples/demo.sh NNC OUTDIR
set -eu
nnc=$1
out=$2
ex=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
cd "$out"

if [ -t 1 ]; then bold='\033[1m' plain='\033[0m'; else bold='' plain=''; fi
step() { printf "\n${bold}== %s${plain}\n" "$*"; }

step "nnc check examples/grades.nn: the model, its shapes and settings"
"$nnc" check "$ex/grades.nn"

step "nnc train examples/grades.nn: 100 epochs on the course's 8-row table"
"$nnc" train "$ex/grades.nn" --data "$ex/grades.csv" --history grades-history.csv --quiet
first=$(sed -n 2p grades-history.csv | cut -d, -f2)
last=$(tail -n 1 grades-history.csv | cut -d, -f2)
echo "training loss (mse): epoch 1: $first -> epoch 100: $last"
echo "weights: $out/grades.safetensors"

step "nnc predict: grades N1, N2 for the new students (Estudio, Edad, Promedio = 10, 19, 4 and 11, 20, 3)"
"$nnc" predict "$ex/grades.nn" --weights grades.safetensors --data "$ex/grades_new.csv"

step "nnc train + eval examples/careers.nn: three careers (LS = 0, LI = 1, IC = 2)"
"$nnc" train "$ex/careers.nn" --data "$ex/careers.csv" --quiet
"$nnc" eval "$ex/careers.nn" --weights careers.safetensors --data "$ex/careers.csv"

step "nnc train + eval examples/xor.nn: XOR needs a hidden layer"
"$nnc" train "$ex/xor.nn" --data "$ex/xor.csv" --quiet
"$nnc" eval "$ex/xor.nn" --weights xor.safetensors --data "$ex/xor.csv"
"$nnc" predict "$ex/xor.nn" --weights xor.safetensors --data "$ex/xor.csv"

step "nnc build examples/grades.nn: the generated C"
"$nnc" build "$ex/grades.nn" -o generated
ls -l generated
echo "read $out/generated/grades.c: forward, backward and the sgd step as plain C;"
echo "docs/API.md shows how to call it from your own program."
