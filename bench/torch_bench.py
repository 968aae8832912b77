#!/usr/bin/python3
"""torch_bench.py - the PyTorch side of bench/run.sh.

Each workload of bench/run.sh has a subcommand here that runs the same
model with the same hyperparameters and data-order rules as the C driver
(bench/*.c) and prints records in the same format (bench/bench.h): one per
line, WORKLOAD CONFIG IMPL METRIC VALUE, tab-separated.  IMPL is "torch-t1"
or "torch-t2": the value of torch.set_num_threads.

    torch_bench.py toy GRADES_CSV STEPS THREADS
    torch_bench.py fashion LABEL DATA_DIR EPOCHS SEED THREADS
    torch_bench.py probe DATA_DIR STEPS THREADS        (which thread count trains faster)
    torch_bench.py infer DATA_DIR CALLS1 CALLS256 THREADS
    torch_bench.py scaling SECONDS THREADS SPEC...      (SPEC: series:width:batch)

THREADS is a comma-separated list such as "1,2": the measurement is repeated
for each, in that order, inside the one process (so `import torch` is paid
once).  Run it with Debian's /usr/bin/python3, which has python3-torch.

Giving PyTorch its best configuration: data are float32 tensors in memory
and batches are taken by indexing (no DataLoader), gradients are reset with
zero_grad(set_to_none=True), inference runs under torch.inference_mode().

Training starts from nnc's very initial weights and, for Fashion-MNIST, sees
the batches in nnc's order: Pcg32 below re-draws what the runtime draws
(Glorot-uniform weights from stream 1 of the seed, the epoch shuffles from
stream 3, bit for bit), so the two runs differ only by float rounding and
their losses and accuracies can be compared run against run.  The shuffle
is drawn before each epoch's clock starts (in Python it is slow; nnc's is
inside its timing and takes about a millisecond).
"""
import gzip
import math
import os
import resource
import sys
import time

import numpy as np
import torch

IMAGE_PIXELS = 784
CLASSES = 10


def record(workload, config, impl, metric, value):
    """Prints one result record (bench/bench.h describes the format)."""
    print(f"{workload}\t{config}\t{impl}\t{metric}\t{value:.9g}", flush=True)


def rss_kb():
    """The current resident set size in kB, from /proc/self/statm."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGESIZE") // 1024


def peak_rss_kb():
    """The peak resident set size of this process so far, in kB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def mlp(sizes, activations):
    """A chain of Linear layers with nnc's initialisation: Glorot-uniform
    weights (Keras's default) and zero biases.  activations[i] follows
    layer i: "tanh", "relu" or None (linear; a softmax output stays as
    logits because CrossEntropyLoss applies it)."""
    layers = []
    for i in range(len(sizes) - 1):
        linear = torch.nn.Linear(sizes[i], sizes[i + 1])
        torch.nn.init.xavier_uniform_(linear.weight)
        torch.nn.init.zeros_(linear.bias)
        layers.append(linear)
        if activations[i] == "tanh":
            layers.append(torch.nn.Tanh())
        elif activations[i] == "relu":
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


class KerasAdam(torch.optim.Optimizer):
    """Adam as Keras (and nnc's generated code) computes it, so that the two
    runs differ only by float rounding: alpha = lr sqrt(1 - b2^t) / (1 - b1^t)
    and w -= alpha m / (sqrt(v) + eps), epsilon added before the bias
    correction.  torch.optim.Adam adds it after, which makes its run drift
    away from nnc's by more than rounding.  The same tensor operations per
    parameter as torch.optim.Adam's single-tensor path, so no slower."""

    def __init__(self, params, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(params, dict(lr=lr, beta_1=beta_1, beta_2=beta_2,
                                      epsilon=epsilon))
        self.t = 0

    @torch.no_grad()
    def step(self, closure=None):
        self.t += 1
        for group in self.param_groups:
            b1, b2, eps = group["beta_1"], group["beta_2"], group["epsilon"]
            alpha = group["lr"] * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["m"] = torch.zeros_like(p)
                    state["v"] = torch.zeros_like(p)
                m, v = state["m"], state["v"]
                m.mul_(b1).add_(p.grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                p.addcdiv_(m, v.sqrt().add_(eps), value=-alpha)


def optimizer(name, params):
    """bench/models/fashion_NAME.nn's optimizer.  PyTorch's SGD momentum
    (v = m v + g; w -= lr v) equals Keras's (v = m v - lr g; w += v) for a
    constant learning rate.  Adam is Keras's (KerasAdam above)."""
    if name == "sgd":
        return torch.optim.SGD(params, lr=0.01, momentum=0.9)
    if name == "adam":
        return KerasAdam(params)
    raise SystemExit(f"torch_bench.py: unknown optimizer {name}")


def read_idx(path, header):
    """The bytes of a gzip-compressed IDX file after its header."""
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=header)


def read_fashion(data_dir, prefix):
    """Images scaled to [0, 1] as float32 [n, 784] and labels as int64,
    as nnrt_read_idx reads them."""
    x = read_idx(f"{data_dir}/{prefix}-images-idx3-ubyte.gz", 16)
    y = read_idx(f"{data_dir}/{prefix}-labels-idx1-ubyte.gz", 8)
    x = torch.from_numpy(x.reshape(-1, IMAGE_PIXELS).astype(np.float32) / 255.0)
    return x, torch.from_numpy(y.astype(np.int64))


# ---- nnc's random numbers (runtime/rng.c), so that PyTorch can start from
# the same weights and see the batches in the same order ---------------------

MASK64 = (1 << 64) - 1
PCG_MULT = 6364136223846793005


class Pcg32:
    """nnrt_rng: O'Neill's pcg32 (XSH-RR), as pcg32_srandom_r seeds it."""

    def __init__(self, seed, stream):
        self.state, self.inc = 0, ((stream << 1) | 1) & MASK64
        self.u32()
        self.state = (self.state + seed) & MASK64
        self.u32()

    def u32(self):
        old = self.state
        self.state = (old * PCG_MULT + self.inc) & MASK64
        xorshifted = (((old >> 18) ^ old) >> 27) & 0xFFFFFFFF
        rot = old >> 59
        return ((xorshifted >> rot) | (xorshifted << ((-rot) & 31))) & 0xFFFFFFFF

    def below(self, bound):
        """nnrt_rng_below: Lemire's method with its rejection."""
        m = self.u32() * bound
        if (m & 0xFFFFFFFF) < bound:
            threshold = (-bound & 0xFFFFFFFF) % bound
            while (m & 0xFFFFFFFF) < threshold:
                m = self.u32() * bound
        return m >> 32

    def uniform_f32(self, count):
        """count draws of nnrt_rng_uniform_f32, as a float32 array."""
        u32 = self.u32
        bits = np.fromiter((u32() >> 8 for _ in range(count)), dtype=np.float32, count=count)
        return bits * np.float32(2.0 ** -24)

    def shuffle(self, idx):
        """nnrt_shuffle of the list idx, in place (Fisher-Yates from the end)."""
        below = self.below
        for i in range(len(idx), 1, -1):
            j = below(i)
            idx[i - 1], idx[j] = idx[j], idx[i - 1]


def nnc_initialise(model, seed):
    """Gives model's Linear layers the parameters NAME_create(seed) draws:
    nnrt_glorot_uniform_f32 on stream 1, layer after layer, one draw per
    weight in memory order ([out, in], PyTorch's layout too), zero biases."""
    rng = Pcg32(seed, 1)
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, torch.nn.Linear):
                units, inputs = layer.weight.shape
                limit = np.float32(math.sqrt(6.0 / (inputs + units)))
                u = rng.uniform_f32(units * inputs)
                w = limit * (np.float32(2) * u - np.float32(1))
                layer.weight.copy_(torch.from_numpy(w.reshape(units, inputs)))
                layer.bias.zero_()


def thread_list(text):
    return [int(t) for t in text.split(",")]


def train_step(model, opt, loss_fn, x, y):
    """The usual PyTorch training step; returns the loss tensor."""
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss


# ---- workload 1: the course toy ---------------------------------------------

def cmd_toy(csv, steps, threads):
    """examples/grades.nn on examples/grades.csv: microseconds per step,
    timed over `steps` steps after 100 warm-up steps, as bench/toy.c,
    from the same initial weights (so the final losses should agree)."""
    rows = np.loadtxt(csv, delimiter=",", skiprows=1, dtype=np.float32)
    x = torch.from_numpy(rows[:, :3] / np.array([15, 25, 7], dtype=np.float32))
    y = torch.from_numpy(rows[:, 3:].copy())
    for t in thread_list(threads):
        torch.set_num_threads(t)
        model = mlp([3, 4, 5, 2], ["tanh", "relu", None])
        nnc_initialise(model, 0)  # grades.nn's seed
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        loss_fn = torch.nn.MSELoss()
        for _ in range(100):
            loss = train_step(model, opt, loss_fn, x, y)
        start = time.perf_counter()
        for _ in range(steps):
            loss = train_step(model, opt, loss_fn, x, y)
        seconds = time.perf_counter() - start
        # loss.item() stays out of the timed loop: PyTorch's best case.
        record("toy", "grades", f"torch-t{t}", "us_per_step", 1e6 * seconds / steps)
        record("toy", "grades", f"torch-t{t}", "final_loss", loss.item())


# ---- workloads 2 and 5: Fashion-MNIST training and its memory ---------------

def fashion_model():
    return mlp([IMAGE_PIXELS, 256, 128, CLASSES], ["relu", "relu", None])


def cmd_fashion(label, data_dir, epochs, seed, threads):
    """As bench/fashion.c: `epochs` epochs over the training set in a new
    random order each epoch (nnc's order for this seed), batch 64, from
    nnc's initial weights for this seed, then the test accuracy."""
    impl = f"torch-t{threads}"
    torch.set_num_threads(threads)
    record("memory", label, impl, "rss_start_kb", rss_kb())
    x, y = read_fashion(data_dir, "train")
    tx, ty = read_fashion(data_dir, "t10k")
    record("memory", label, impl, "rss_data_kb", rss_kb())
    model = fashion_model()
    nnc_initialise(model, seed)
    opt = optimizer(label, model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()
    n = x.shape[0]
    rng, idx = Pcg32(seed, 3), list(range(n))
    for e in range(1, epochs + 1):
        rng.shuffle(idx)
        order = torch.tensor(idx)
        start = time.perf_counter()
        model.train()
        total = 0.0
        for b in range(0, n, 64):
            i = order[b:b + 64]
            loss = train_step(model, opt, loss_fn, x[i], y[i])
            total += loss.item() * len(i)
        seconds = time.perf_counter() - start
        record("fashion", label, impl, "epoch_s", seconds)
        if e == 1:
            record("memory", label, impl, "rss_peak_kb", peak_rss_kb())
        print(f"fashion {label} {impl}: epoch {e}/{epochs} loss {total / n:.4f} "
              f"{seconds:.2f} s", file=sys.stderr)
    record("fashion", label, impl, "train_loss", total / n)
    model.eval()
    with torch.inference_mode():
        acc = (model(tx).argmax(dim=1) == ty).float().mean().item()
    record("fashion", label, impl, f"test_acc_{epochs}ep", acc)


def cmd_probe(data_dir, steps, threads):
    """Times `steps` SGD steps of the Fashion MLP with each thread count,
    alternating in chunks, so bench/run.sh can give the Fashion workload
    PyTorch's faster setting.  Prints, per thread count, ms per step."""
    x, y = read_fashion(data_dir, "t10k")
    counts = thread_list(threads)
    spent = {t: 0.0 for t in counts}
    done = {t: 0 for t in counts}
    torch.manual_seed(0)
    model = fashion_model()
    opt = optimizer("sgd", model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()
    chunk = max(1, steps // 4)
    for rnd in range(5):  # round 0 warms up and is not counted
        for t in counts:
            torch.set_num_threads(t)
            start = time.perf_counter()
            for s in range(chunk):
                i = torch.randint(0, x.shape[0], (64,))
                train_step(model, opt, loss_fn, x[i], y[i]).item()
            if rnd > 0:
                spent[t] += time.perf_counter() - start
                done[t] += chunk
    for t in counts:
        record("probe", "fashion", f"torch-t{t}", "ms_per_step", 1e3 * spent[t] / done[t])


# ---- workload 3: inference -----------------------------------------------------

def cmd_infer(data_dir, calls1, calls256, threads):
    """Batch-1 latency (median over calls1 single-image calls) and batch-256
    throughput (median over calls256 calls) of the Fashion MLP, as
    bench/infer.c."""
    x, _ = read_fashion(data_dir, "t10k")
    torch.manual_seed(0)
    model = fashion_model()
    model.eval()
    for t in thread_list(threads):
        torch.set_num_threads(t)
        impl = f"torch-t{t}"
        with torch.inference_mode():
            times = []
            for c in range(calls1 + 100):
                xi = x[c % x.shape[0]:c % x.shape[0] + 1]
                start = time.perf_counter()
                model(xi)
                if c >= 100:
                    times.append(time.perf_counter() - start)
            record("infer", "batch1", impl, "us_per_sample", 1e6 * float(np.median(times)))
            times = []
            for c in range(calls256 + 5):
                b = (c * 256) % (x.shape[0] - 256)
                start = time.perf_counter()
                model(x[b:b + 256])
                if c >= 5:
                    times.append(time.perf_counter() - start)
            record("infer", "batch256", impl, "samples_per_s", 256 / float(np.median(times)))


# ---- workload 6: scaling -------------------------------------------------------

def time_steps(step, seconds):
    """Seconds per call of step(), over enough calls to last about
    `seconds` (after a calibration that also warms up)."""
    n, spent = 1, 0.0
    while spent < 0.05:
        start = time.perf_counter()
        for _ in range(n):
            step()
        spent = time.perf_counter() - start
        n *= 2
    n = max(3, int(seconds / (spent / (n // 2))))
    start = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - start) / n


def cmd_scaling(seconds, threads, specs):
    """784 -> W relu -> 10 softmax, sgd(0.01, momentum 0.9), one fixed
    synthetic batch of B rows, for each SPEC "series:W:B", as
    bench/scaling.c.  Prints ms per training step."""
    gen = torch.Generator().manual_seed(0)
    for t in thread_list(threads):
        torch.set_num_threads(t)
        for spec in specs:
            series, width, batch = spec.split(":")
            width, batch = int(width), int(batch)
            x = torch.rand(batch, IMAGE_PIXELS, generator=gen)
            y = torch.randint(0, CLASSES, (batch,), generator=gen)
            torch.manual_seed(0)
            model = mlp([IMAGE_PIXELS, width, CLASSES], ["relu", None])
            opt = optimizer("sgd", model.parameters())
            loss_fn = torch.nn.CrossEntropyLoss()
            s = time_steps(lambda: train_step(model, opt, loss_fn, x, y).item(), seconds)
            value = width if series == "width" else batch
            record("scaling", f"{series}={value}", f"torch-t{t}", "ms_per_step", 1e3 * s)


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "toy" and len(args) == 3:
        cmd_toy(args[0], int(args[1]), args[2])
    elif cmd == "fashion" and len(args) == 5:
        cmd_fashion(args[0], args[1], int(args[2]), int(args[3]), int(args[4]))
    elif cmd == "probe" and len(args) == 3:
        cmd_probe(args[0], int(args[1]), args[2])
    elif cmd == "infer" and len(args) == 4:
        cmd_infer(args[0], int(args[1]), int(args[2]), args[3])
    elif cmd == "scaling" and len(args) >= 3:
        cmd_scaling(float(args[0]), args[1], args[2:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
