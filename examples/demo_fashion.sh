#!/bin/sh
# demo_fashion.sh — `make demo-fashion`: train examples/fashion_mlp.nn on
# Fashion-MNIST (Debian's dataset-fashion-mnist), validating on the test set
# after every epoch, then evaluate the saved weights and plot the history.
#
#   examples/demo_fashion.sh NNC OUTDIR
set -eu
nnc=$1
out=$2
ex=$(cd "$(dirname "$0")" && pwd)
data=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
mkdir -p "$out"
cd "$out"

"$nnc" train "$ex/fashion_mlp.nn" \
	--data "$data/train-images-idx3-ubyte.gz" \
	--labels "$data/train-labels-idx1-ubyte.gz" \
	--val "$data/t10k-images-idx3-ubyte.gz" \
	--val-labels "$data/t10k-labels-idx1-ubyte.gz" \
	--history fashion-history.csv --out fashion_mlp.safetensors
echo "test set (10,000 images):"
"$nnc" eval "$ex/fashion_mlp.nn" --weights fashion_mlp.safetensors \
	--data "$data/t10k-images-idx3-ubyte.gz" \
	--labels "$data/t10k-labels-idx1-ubyte.gz"
"$nnc" plot fashion-history.csv -o fashion-history.svg
echo "weights: $out/fashion_mlp.safetensors, curves: $out/fashion-history.svg"
