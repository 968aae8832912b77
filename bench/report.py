#!/usr/bin/env python3
"""report.py - turns a bench/run.sh run into bench/RESULTS.md and bench/scaling.svg.

    report.py WORK_DIR RESULTS_MD SCALING_SVG

WORK_DIR is run.sh's scratch directory (BUILD_DIR/bench) holding
results.tsv (the records of every driver: WORKLOAD CONFIG IMPL METRIC VALUE,
see bench/bench.h), meta.tsv (KEY VALUE: the machine, the libraries, the
settings) and commands.txt (every command that produced records).  Every
figure in the report is a median over the records of one
(workload, config, impl, metric).  Standard library only, so any python3
runs it; the SVG is written by hand (matplotlib is not assumed).
"""
import collections
import math
import statistics
import sys

FASHION_ROWS = 60000
TEST_ROWS = 10000
PIXELS = 784
BATCH = 64
PARAMS = 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
OPT_SLOTS = {"sgd": 1, "adam": 2}  # velocity; m and v
WIDTHS = [64, 128, 256, 512, 1024, 2048, 4096]
BATCHES = [1, 4, 16, 64, 256, 1024]


def load(work):
    values = collections.defaultdict(list)
    with open(f"{work}/results.tsv") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 5:
                try:
                    values[tuple(parts[:4])].append(float(parts[4]))
                except ValueError:
                    pass
    meta = {}
    with open(f"{work}/meta.tsv") as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("\t")
            meta[key] = value
    try:
        with open(f"{work}/commands.txt") as f:
            commands = list(dict.fromkeys(l.strip() for l in f if l.strip()))
    except OSError:
        commands = []
    return values, meta, commands


class Results:
    def __init__(self, values):
        self.values = values

    def all(self, workload, config, impl, metric):
        return self.values.get((workload, config, impl, metric), [])

    def med(self, workload, config, impl, metric):
        v = self.all(workload, config, impl, metric)
        return statistics.median(v) if v else None

    def impls(self, workload):
        return sorted({k[2] for k in self.values if k[0] == workload})

    def configs(self, workload):
        return sorted({k[1] for k in self.values if k[0] == workload})

    def metrics(self, workload, config, impl):
        return sorted({k[3] for k in self.values if k[:3] == (workload, config, impl)})


def display(impl):
    """How an IMPL of the records is named in the report."""
    if impl.startswith("torch-t"):
        n = impl[7:]
        return f"PyTorch, {n} thread{'' if n == '1' else 's'}"
    return {"nnc": "nnc", "nnc-infer": "nnc, inference-only build, CBLAS",
            "nnc-infer-noblas": "nnc, inference-only build, --no-blas",
            "fann": "FANN"}.get(impl, impl)


def ordered(impls):
    """nnc first, then PyTorch, then the others (FANN)."""
    return sorted(impls, key=lambda i: (i != "nnc", not i.startswith("torch"), i))


def fmt(x, digits=3):
    """x with `digits` significant digits, or "n/a"."""
    if x is None:
        return "n/a"
    if x == 0:
        return "0"
    mag = int(math.floor(math.log10(abs(x))))
    decimals = max(0, digits - 1 - mag)
    return f"{x:,.{decimals}f}"


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out) + "\n"


def torch_impls(r, workload):
    return [i for i in r.impls(workload) if i.startswith("torch")]


def best_torch(r, workload, config, metric, lower_is_better=True):
    """(impl, median) of the faster PyTorch thread setting, or (None, None)."""
    best = (None, None)
    for impl in torch_impls(r, workload):
        v = r.med(workload, config, impl, metric)
        if v is None:
            continue
        if best[1] is None or (v < best[1] if lower_is_better else v > best[1]):
            best = (impl, v)
    return best


def accuracy_diffs(r, meta, opt):
    """nnc's test accuracy minus PyTorch's (its faster thread setting), in
    points, seed by seed: round r of both runs seed r."""
    metric = f"test_acc_{meta.get('accuracy_epochs')}ep"
    impl, _ = best_torch(r, "fashion", opt, "epoch_s")
    pairs = zip(r.all("fashion", opt, "nnc", metric),
                r.all("fashion", opt, impl, metric) if impl else [])
    return [100 * (a - b) for a, b in pairs]


def best_nnc(r, config, metric, lower_is_better):
    """(label, median) of the fastest nnc build at inference, or ("", None)."""
    best = ("", None)
    for impl, label in [("nnc", "training build")] + [(i, n[5:]) for i, n in INFER_ONLY]:
        v = r.med("infer", config, impl, metric)
        if v is not None and (best[1] is None or
                              (v < best[1] if lower_is_better else v > best[1])):
            best = (label, v)
    return best


def spread(values):
    if len(values) < 2:
        return ""
    return f" ({fmt(min(values))} – {fmt(max(values))}, n={len(values)})"


# ---- sections -------------------------------------------------------------------

def section_toy(r, meta, out, summary):
    out.append("## 1. Course toy: examples/grades.nn\n")
    out.append("3 → 4 tanh → 5 relu → 2, mse, sgd(0.01), the 8 rows of examples/grades.csv "
               f"(inputs divided by 15, 25, 7) as one batch of 8, {meta.get('toy_steps')} "
               "steps after 100 warm-up steps. nnc: `bench/toy.c` calling "
               "`grades_train_batch` in a loop; PyTorch: zero_grad / forward / loss / "
               "backward / step, from the same initial weights (`bench/torch_bench.py` re-draws "
               "nnc's), so the final losses should agree up to float rounding.\n")
    if meta.get("have_fann") == "1":
        out.append("FANN: `bench/fann_toy.c`, floatfann, a 3-4-5-2 network trained with "
                   "FANN_TRAIN_BATCH (one `fann_train_epoch` over the 8 rows is one step), "
                   "learning rate 0.01, momentum 0, error function FANN_ERRORFUNC_LINEAR (plain "
                   "squared error; FANN's default, FANN_ERRORFUNC_TANH, stretches large errors), "
                   "starting from nnc's initial weights (checked by comparing its outputs with a "
                   "plain C forward pass). FANN's batch step adds 0.01 / 8 times the 8 rows' "
                   "summed slopes, which for 2 linear outputs is exactly sgd(0.01) on mse; the "
                   "network is not quite grades.nn:\n")
        out.append("- **tanh**: FANN_SIGMOID_SYMMETRIC is 2 / (1 + e^(−2sx)) − 1 = tanh(s·x) with "
                   "steepness s, by default 0.5 (tanh(x/2)); the benchmark sets s = 1, which makes "
                   "it tanh. In training FANN takes its derivative as s·(1 − y²) with y clipped to "
                   "[−0.98, 0.98], so a saturated unit keeps a derivative of at least 0.0396 where "
                   "tanh's goes to 0.")
        out.append("- **relu**: FANN 2.2.0 has no ReLU (FANN_LINEAR_PIECE_RECT came after 2.2.0). "
                   "The nearest is FANN_LINEAR_PIECE, min(max(x, 0), 1): a ReLU capped at 1, whose "
                   "derivative FANN takes as 1 everywhere, so the gradient also flows through units "
                   "that output 0 or 1. This, not the training rule, is why FANN's final loss "
                   "differs from the others'.")
        out.append("- **linear output**: FANN_LINEAR with steepness 1 (the default 0.5 would "
                   "halve the outputs).\n")
    rows = []
    for impl in ordered(r.impls("toy")):
        v = r.all("toy", "grades", impl, "us_per_step")
        rows.append([display(impl), fmt(r.med("toy", "grades", impl, "us_per_step")) + spread(v),
                     fmt(r.med("toy", "grades", impl, "final_loss"), 4)])
    out.append(table(["", "µs per step (median (min – max, n))", "final loss"], rows))
    nnc = r.med("toy", "grades", "nnc", "us_per_step")
    impl, best = best_torch(r, "toy", "grades", "us_per_step")
    if best:
        out.append(f"\nnnc / PyTorch ({display(impl)}): **{fmt(ratio(nnc, best))}** "
                   f"(nnc is {fmt(ratio(best, nnc))}× faster).\n")
    fann = r.med("toy", "grades", "fann", "us_per_step")
    if fann:
        out.append(f"nnc / FANN: **{fmt(ratio(nnc, fann))}** "
                   f"(nnc is {fmt(ratio(fann, nnc))}× faster).\n")
    summary.append(["1 toy: µs per step", fmt(nnc), fmt(best), fmt(ratio(nnc, best)),
                    fmt(fann), fmt(ratio(nnc, fann))])


def section_fashion(r, meta, out, summary):
    out.append("## 2. Fashion-MNIST MLP: training\n")
    out.append("784 → 256 relu → 128 relu → 10 softmax, sparse categorical crossentropy, "
               "batch 64, 60,000 training images in a new random order every epoch (the last "
               "batch of an epoch has 32 rows), test accuracy on the 10,000 test images. "
               "Models: `bench/models/fashion_sgd.nn` (sgd 0.01, momentum 0.9) and "
               "`bench/models/fashion_adam.nn` (adam 0.001). nnc: `bench/fashion.c` "
               "(NAME_train_batch over gathered batches, NAME_evaluate); PyTorch: the same "
               "loop over tensors in memory. PyTorch starts from nnc's initial weights and "
               "sees the batches in nnc's order (`bench/torch_bench.py` re-draws nnc's PCG32 "
               "numbers bit for bit), so losses and accuracies differ only by float rounding. "
               "Seconds per epoch are the median over every epoch of every round "
               f"({meta.get('rounds')} round(s) of {meta.get('epochs')} epochs). Round r "
               "uses seed r for both (initial weights and batch order), so the test "
               "accuracies compare nnc and PyTorch seed with seed: the mean of the "
               "differences, and each seed's.\n")
    probe = [(i, r.med("probe", "fashion", i, "ms_per_step")) for i in r.impls("probe")]
    if probe:
        out.append("PyTorch's thread count for this workload was chosen by a probe (ms per "
                   "training step): " + ", ".join(f"{display(i)} {fmt(v)}" for i, v in probe)
                   + f"; used: {display('torch-t' + meta.get('torch_fashion_threads', '1'))}.\n")
    acc_epochs = meta.get("accuracy_epochs")
    acc_metric = f"test_acc_{acc_epochs}ep"
    if meta.get("have_fann") == "1":
        fann_epochs = meta.get("fann_epochs")
        out.append("FANN (`bench/fann_fashion.c`) has no softmax, no cross-entropy and no "
                   "mini-batch sgd with momentum, so it runs the nearest configuration, listed "
                   "beside the sgd model: 784-256-128-10, floatfann; hidden units "
                   "FANN_SIGMOID_SYMMETRIC with steepness 1, i.e. tanh (FANN 2.2.0 has no ReLU); "
                   "outputs FANN_SIGMOID (steepness 0.5: the logistic 1 / (1 + e^−x)) against "
                   "one-hot targets; squared error (FANN_ERRORFUNC_LINEAR); FANN_TRAIN_BATCH with "
                   "learning rate 0.01 on mini-batches of 64 rows in nnc's order (one "
                   "`fann_train_epoch` per batch, on a `fann_train_data` whose row pointers point "
                   "into the batch: FANN steps by 0.01 times the batch's mean slope). FANN's batch "
                   "update has no momentum (only FANN_TRAIN_INCREMENTAL, one row per step, uses "
                   "`learning_momentum`), so nnc's momentum 0.9 has no counterpart and FANN learns "
                   "less per epoch (FANN_TRAIN_INCREMENTAL with momentum 0.9 would keep the "
                   "momentum but step on every row, a batch of 1). Its weights start uniform in "
                   "[−0.1, 0.1] (FANN's own initialisation, seeded). FANN computes on one thread, "
                   "without BLAS. Because an epoch takes FANN many seconds, it trains "
                   f"{fann_epochs} epoch(s) once per round, so its seconds per epoch are the "
                   f"median over {meta.get('rounds')} × {fann_epochs} epoch(s), its test accuracy "
                   f"(one figure per round) is after {fann_epochs} epoch(s)"
                   + (f", not {acc_epochs}" if fann_epochs != acc_epochs else "")
                   + ", and its training loss is a mean squared error over 10 sigmoid "
                   "outputs, not comparable with the cross-entropy of the others.\n")
    rows = []
    for opt in ("sgd", "adam"):
        for impl in ordered(r.impls("fashion")):
            epochs = r.all("fashion", opt, impl, "epoch_s")
            if not epochs:
                continue
            acc = r.all("fashion", opt, impl, acc_metric)
            acc_text = ", ".join(f"{100 * a:.2f} %" for a in acc)
            if not acc:  # FANN trains fewer epochs: say how many
                acc_text = "; ".join(", ".join(f"{100 * a:.2f} %"
                                               for a in r.all("fashion", opt, impl, m))
                                     + f" (after {m[9:-2]} epoch(s))"
                                     for m in r.metrics("fashion", opt, impl)
                                     if m.startswith("test_acc_"))
            loss = r.med("fashion", opt, impl, "train_loss")
            mse = r.med("fashion", opt, impl, "train_mse")
            rows.append([opt, display(impl), fmt(statistics.median(epochs)) + spread(epochs),
                         acc_text or "n/a",
                         fmt(loss, 4) if mse is None else f"{fmt(mse, 4)} (mse)"])
    out.append(table(["optimizer", "", "seconds per epoch (median (min – max, n))",
                      f"test accuracy after {acc_epochs} epoch(s)",
                      "training loss, last epoch"], rows))
    out.append("")
    for opt in ("sgd", "adam"):
        nnc = r.med("fashion", opt, "nnc", "epoch_s")
        impl, best = best_torch(r, "fashion", opt, "epoch_s")
        acc_n = r.med("fashion", opt, "nnc", acc_metric)
        acc_t = r.med("fashion", opt, impl, acc_metric) if impl else None
        line = f"- {opt}: nnc / PyTorch time **{fmt(ratio(nnc, best))}**"
        diffs = accuracy_diffs(r, meta, opt)
        if diffs:
            diff = statistics.mean(diffs)
            line += (f"; accuracy nnc − PyTorch = {diff:+.2f} points, the mean over "
                     f"{len(diffs)} seed(s) "
                     f"({'within' if abs(diff) <= 0.5 else 'NOT within'} 0.5 points)")
            if len(diffs) > 1:
                line += ("; seed by seed: " + ", ".join(f"{d:+.2f}" for d in diffs))
        if opt == "adam":
            line += (" (PyTorch runs Keras's Adam, as nnc does, ε added before the bias "
                     "correction: `KerasAdam` in bench/torch_bench.py)")
        out.append(line)
        fann = r.med("fashion", opt, "fann", "epoch_s")
        if fann:
            line = (f"- {opt}: nnc / FANN time **{fmt(ratio(nnc, fann))}** "
                    f"(nnc is {fmt(ratio(fann, nnc))}× faster)")
            acc_f = r.med("fashion", opt, "fann", acc_metric)
            if acc_n is not None and acc_f is not None:
                line += (f"; accuracy nnc − FANN = {100 * (acc_n - acc_f):+.2f} points "
                         "(not the same model: see above)")
            out.append(line)
        summary.append([f"2 fashion {opt}: s per epoch", fmt(nnc), fmt(best), fmt(ratio(nnc, best)),
                        fmt(fann) if fann else "", fmt(ratio(nnc, fann)) if fann else ""])
    out.append("")


INFER_ONLY = [("nnc-infer", "nnc, inference-only build, CBLAS"),
              ("nnc-infer-noblas", "nnc, inference-only build, --no-blas")]


def section_infer(r, meta, out, summary):
    out.append("## 3. Inference: the Fashion MLP\n")
    out.append("Batch 1: median over single calls of `NAME_predict(m, x, 1, y)` (inference-only "
               "build: `NAME_predict(x, 1, y)`; PyTorch: `model(x[i:i+1])` under "
               "`torch.inference_mode()`), each call timed. Batch 256: 256 / the median time of a "
               "256-row call. Weights freshly initialised (speed does not depend on them), the same "
               "in every nnc build: the training build's `NAME_create(0)`, saved with `NAME_save` "
               "and built into the inference-only builds (`nnc build --infer-only --max-batch 256 "
               "--weights W`, with CBLAS and with `--no-blas`), whose predictions of 256 test "
               "images (one 256-row call, 256 one-row calls) are checked to agree with the "
               "training build's within 1e-5 relative before timing.\n")
    aborted = meta.get("infer_aborted")
    if aborted:
        out.append(f"**Workload 3 aborted**: an inference-only build's predictions disagree with "
                   f"the training build's: {aborted}\n")
        summary.append(["3 infer: aborted (predictions disagree)", "n/a", "n/a", "n/a"])
        out.append("")
        return
    rows = []
    impls = ["nnc"] + [i for i, _ in INFER_ONLY] + \
        [i for i in r.impls("infer") if i not in ("nnc",) + tuple(i for i, _ in INFER_ONLY)]
    for impl in impls:
        name = dict(INFER_ONLY, nnc="nnc, training build").get(impl) or display(impl)
        if impl.startswith("nnc-infer") and not r.all("infer", "batch1", impl, "us_per_sample"):
            rows.append([name, meta.get(f"infer_only_{impl}", "n/a"), "n/a"])
            continue
        rows.append([name, fmt(r.med("infer", "batch1", impl, "us_per_sample")),
                     fmt(r.med("infer", "batch256", impl, "samples_per_s"))])
    out.append(table(["", "batch 1: µs per sample", "batch 256: samples per second"], rows))
    which1, nnc1 = best_nnc(r, "batch1", "us_per_sample", True)
    _, t1 = best_torch(r, "infer", "batch1", "us_per_sample")
    which256, nnc256 = best_nnc(r, "batch256", "samples_per_s", False)
    _, t256 = best_torch(r, "infer", "batch256", "samples_per_s", lower_is_better=False)
    summary.append([f"3 infer batch 1: µs per sample (nnc: {which1 or 'n/a'})",
                    fmt(nnc1), fmt(t1), fmt(ratio(nnc1, t1))])
    summary.append([f"3 infer batch 256: µs per sample (nnc: {which256 or 'n/a'})",
                    fmt(ratio(1e6, nnc256)), fmt(ratio(1e6, t256)),
                    fmt(ratio(t256, nnc256))])
    out.append("")


def section_compile(r, meta, out, summary):
    out.append("## 4. Compiler speed\n")
    out.append("A chain of N `dense(32, relu)` layers (input x[32], mse, sgd, batch 32), "
               f"generated by run.sh; wall time of `nnc check` and `nnc build` (median of "
               f"{meta.get('compile_reps')} runs, output discarded).\n")
    rows = []
    per_layer = []
    for n in (250, 500, 1000, 2000):
        check = r.med("compile", f"check-{n}", "nnc", "seconds")
        build = r.med("compile", f"build-{n}", "nnc", "seconds")
        rss = r.med("compile", f"build-{n}", "nnc", "maxrss_kb")
        size = meta.get(f"chain_c_bytes_{n}")
        if check is None:
            continue
        per_layer.append(build / n if build else None)
        rows.append([n, fmt(1e3 * check), fmt(1e3 * build),
                     fmt(1e6 * build / n) if build else "n/a",
                     f"{int(size) / 1e6:.2f} MB" if size else "n/a",
                     f"{rss / 1024:.1f} MB" if rss else "n/a"])
    out.append(table(["layers", "nnc check (ms)", "nnc build (ms)", "build µs per layer",
                      "generated .c", "build peak RSS"], rows))
    cc = r.med("compile", "cc-fashion", "cc", "seconds")
    out.append(f"\n`cc {meta.get('cflags')} -std=c99 -c` of the Fashion model's generated C "
               f"({meta.get('fashion_c_lines')} lines): **{fmt(cc)} s**.\n")
    b1000 = r.med("compile", "build-1000", "nnc", "seconds")
    c1000 = r.med("compile", "check-1000", "nnc", "seconds")
    summary.append(["4 nnc check, 1000 layers: ms", fmt(1e3 * c1000 if c1000 else None), "", ""])
    summary.append(["4 nnc build, 1000 layers: ms", fmt(1e3 * b1000 if b1000 else None), "", ""])


def fashion_acts(meta):
    return int(meta.get("fashion_acts") or BATCH * (256 + 128 + 10 + 10 + 256 + 128 + 10))


def memory_estimate(meta, opt):
    """Floats that training the Fashion MLP needs: data + parameters × (2 +
    optimizer slots) + activations + the driver's row order and batch."""
    data = (FASHION_ROWS + TEST_ROWS) * (PIXELS + 1)
    driver = FASHION_ROWS * 2 + BATCH * (PIXELS + 1)  # size_t index = 2 floats
    return data + PARAMS * (2 + OPT_SLOTS[opt]) + fashion_acts(meta) + driver


def section_memory(r, meta, out, summary):
    out.append("## 5. Memory: peak RSS of Fashion training\n")
    out.append("Resident set of the training process: at start (before the data), with the "
               "data read, and the peak after the first epoch (getrusage `ru_maxrss`); "
               "medians over the rounds.\n")
    rows = []
    for opt in ("sgd", "adam"):
        for impl in r.impls("memory"):
            start = r.med("memory", opt, impl, "rss_start_kb")
            data = r.med("memory", opt, impl, "rss_data_kb")
            peak = r.med("memory", opt, impl, "rss_peak_kb")
            if peak is None:
                continue
            rows.append([opt, display(impl), fmt(start / 1024), fmt(data / 1024), fmt(peak / 1024),
                         fmt((peak - start) / 1024)])
    out.append(table(["optimizer", "", "at start (MB)", "with data (MB)", "peak (MB)",
                      "peak − start (MB)"], rows))
    acts = fashion_acts(meta)
    mb = lambda floats: floats * 4 / 2**20
    data = (FASHION_ROWS + TEST_ROWS) * (PIXELS + 1)
    out.append("\nThe estimate, data + parameters × (2 + optimizer slots) + activations "
               "(+ the driver's row order and batch buffers), float32:\n")
    for opt in ("sgd", "adam"):
        slots = OPT_SLOTS[opt]
        driver = FASHION_ROWS * 2 + BATCH * (PIXELS + 1)  # size_t index = 2 floats
        total = memory_estimate(meta, opt)
        rows = [["data: 60,000 + 10,000 rows × (784 pixels + 1 label)", fmt(mb(data))],
                [f"parameters × (2 + {slots}): {PARAMS:,} × {2 + slots}", fmt(mb(PARAMS * (2 + slots)))],
                [f"activations (the generated struct's `acts`, {acts:,} floats)", fmt(mb(acts))],
                ["driver: row order (60,000 size_t) + one batch", fmt(mb(driver))],
                ["**total**", f"**{fmt(mb(total))}**"]]
        measured = r.med("memory", opt, "nnc", "rss_peak_kb")
        start = r.med("memory", opt, "nnc", "rss_start_kb")
        if measured is not None:
            rows.append(["measured nnc peak − start", fmt((measured - start) / 1024)])
        out.append(f"{opt}:\n")
        out.append(table(["", "MB"], rows))
        out.append("")
        impl, torch_peak = best_torch(r, "memory", opt, "rss_peak_kb")
        summary.append([f"5 memory {opt}: peak MB", fmt(measured / 1024 if measured else None),
                        fmt(torch_peak / 1024 if torch_peak else None),
                        fmt(ratio(measured, torch_peak))])


def step_gflop(width, batch):
    """GEMM work of one step of 784 -> W -> 10 (no input gradient for the
    first layer): forward + weight gradient for both, input gradient for
    the second."""
    return 1e-9 * (4 * batch * width * PIXELS + 6 * batch * width * 10)


def section_scaling(r, meta, out, summary):
    out.append("## 6. Scaling: time per training step\n")
    out.append("784 → W relu → 10 softmax, sparse categorical crossentropy, sgd(0.01, "
               "momentum 0.9), one fixed batch of synthetic data, steps repeated for about "
               f"{meta.get('scaling_seconds')} s per point; GFLOP/s counts the GEMM work of a "
               "step (4·B·W·784 + 6·B·W·10 flops).\n")
    out.append("![time per step and GEMM rate against width and batch](scaling.svg)\n")
    for series, points, fixed in (("width", WIDTHS, "batch 64"), ("batch", BATCHES, "width 256")):
        timps = torch_impls(r, "scaling")
        rows = []
        for p in points:
            cfg = f"{series}={p}"
            nnc = r.med("scaling", cfg, "nnc", "ms_per_step")
            w, b = (p, 64) if series == "width" else (256, p)
            _, best = best_torch(r, "scaling", cfg, "ms_per_step")
            row = [p, fmt(nnc)] + [fmt(r.med("scaling", cfg, i, "ms_per_step")) for i in timps]
            row += [fmt(ratio(nnc, best)), fmt(ratio(step_gflop(w, b), nnc and nnc / 1e3))]
            rows.append(row)
        out.append(f"{series.capitalize()} series ({fixed}), milliseconds per step:\n")
        out.append(table([series, "nnc"] + [display(i) for i in timps]
                         + ["nnc / best PyTorch", "nnc GFLOP/s"], rows))
        out.append("")


def section_limit(r, meta, out, summary):
    out.append("## The distance to the limit: OpenBLAS alone\n")
    out.append("`bench/sgemm_rate.c` times `cblas_sgemm` at exactly the shapes of one Fashion "
               "training step (batch 64, and 32 for the last batch), each shape on its own, "
               "and adds up one epoch (937 steps of 64 rows and one of 32). It runs once in "
               "every round of workload 2, right after nnc's sgd epochs, so both sides are "
               "measured in the same minutes; the figures are medians over the rounds.\n")
    rows = []
    for cfg in r.configs("sgemm"):
        if cfg.startswith("dense_") and " m=" in cfg:
            rows.append([cfg, fmt(r.med("sgemm", cfg, "openblas", "gflops")),
                         fmt(r.med("sgemm", cfg, "openblas", "us_per_call"))])
    out.append(table(["layer, product, shape", "GFLOP/s", "µs per call"], rows))
    gflop = r.med("sgemm", "epoch", "openblas", "gflop")
    gemm_s = r.med("sgemm", "epoch", "openblas", "gemm_s")
    peak = r.med("sgemm", "peak-1024", "openblas", "gflops")
    out.append("")
    out.append(f"- One epoch's GEMM work: {fmt(gflop)} GFLOP; OpenBLAS alone needs "
               f"**{fmt(gemm_s)} s** for it ({fmt(ratio(gflop, gemm_s))} GFLOP/s on average).")
    out.append(f"- A large product (1024 × 1024 × 1024) runs at {fmt(peak)} GFLOP/s on this "
               "machine with this OpenBLAS.")
    for opt in ("sgd", "adam"):
        epoch = r.med("fashion", opt, "nnc", "epoch_s")
        if epoch:
            out.append(f"- nnc's {opt} epoch takes {fmt(epoch)} s: its GEMMs alone would take "
                       f"{fmt(gemm_s)} s (nnc's epoch is **{epoch / gemm_s:.2f}×** that), "
                       f"so a training epoch reaches **{100 * gemm_s / epoch:.0f} %** "
                       "of the machine's matrix throughput at these shapes "
                       f"(the other {fmt(epoch - gemm_s)} s are everything else: the elementwise "
                       "loops, the optimizer step, gathering batches, and time lost between calls).")
    epoch = r.med("fashion", "sgd", "nnc", "epoch_s")
    inside = r.med("fashion", "sgd", "nnc", "gemm_s")
    if epoch and inside:
        out.append(f"- Where nnc's sgd epoch goes (`bench/fashion.c` times every `nnrt_sgemm` call "
                   f"of the generated code): {fmt(inside)} s in the GEMMs, "
                   f"{fmt(ratio(inside, gemm_s))}× what the same GEMMs take alone in a loop, and "
                   f"{fmt(epoch - inside)} s ({100 * (epoch - inside) / epoch:.0f} %) in everything "
                   "else. In a training step a GEMM's operands come from the step before "
                   "(a freshly gathered batch, weights the optimizer has just rewritten, "
                   "gradients written by another GEMM), not from the cache of the same call "
                   "repeated; nnc splits each product over its own threads "
                   "(docs/RUNTIME.md, \"Threads\"), which is what brings the GEMMs "
                   "inside training close to OpenBLAS threading them alone.")
    wait = r.med("fashion", "sgd", "nnc", "pool_wait_s")
    own = r.med("fashion", "sgd", "nnc", "pool_own_s")
    others = r.med("fashion", "sgd", "nnc", "pool_others_s")
    if epoch and wait is not None and own and others:
        waits = r.all("fashion", "sgd", "nnc", "pool_wait_s")
        slow = [o / w for o, w in zip(r.all("fashion", "sgd", "nnc", "pool_others_s"),
                                      r.all("fashion", "sgd", "nnc", "pool_own_s")) if w]
        out.append(f"- Waiting for the other core (`nnrt_pool_stats_get`): every split product "
                   "and update gives each thread the same share, and the program's thread then "
                   f"waits for the other's: {fmt(wait)} s of the sgd epoch "
                   f"({100 * wait / epoch:.0f} %; per epoch{spread(waits)}). The other thread "
                   f"took {fmt(others / own)}× as long as the program's own for the same work "
                   f"(per epoch{spread(slow)}). Without that wait the epoch would take "
                   f"{fmt(epoch - wait)} s, **{(epoch - wait) / gemm_s:.2f}×** the GEMMs alone. "
                   "Balancing the parts by measured speed would change which OpenBLAS kernel "
                   "each part gets (it has special ones for small products) and with it the "
                   "last bits of the weights from run to run, so the split stays fixed: "
                   "the same seed and thread count always give the same weights.")
    fwd = r.med("sgemm", "forward-256", "openblas", "us_per_call")
    rates = [x for x in (r.med("infer", "batch256", i, "samples_per_s")
                         for i in ("nnc", "nnc-infer")) if x]
    if fwd and rates:
        best256 = max(rates)
        out.append(f"- Batch 256, inference: the forward GEMMs alone take {fmt(fwd)} µs, "
                   f"{fmt(fwd / 256)} µs per sample; nnc's whole batch-256 prediction "
                   f"takes {fmt(1e6 / best256)} µs per sample. OpenBLAS does the same "
                   "GEMMs for PyTorch, so at this batch size nnc's lead can only come from "
                   "the work around them.")
        _, t256 = best_torch(r, "infer", "batch256", "samples_per_s", lower_is_better=False)
        bare = r.med("infer", "batch256", "nnc-infer", "bare_gemm_us")
        call = r.med("infer", "batch256", "nnc-infer", "samples_per_s")
        if bare and call:
            out.append(f"  `bench/infer.c` also times those GEMMs alone right after each of "
                       f"the inference-only CBLAS build's predictions, on the next 256 rows: "
                       f"{fmt(bare)} µs, against {fmt(256e6 / call)} µs for the whole "
                       f"prediction, which adds **{100 * (256e6 / call - bare) / bare:+.1f} %** "
                       "(bias, activations, softmax) to OpenBLAS's time.")
        if t256 and bare:
            out.append(f"  PyTorch's best batch-256 call takes {fmt(256e6 / t256)} µs: a "
                       "program that did nothing but these GEMMs would be "
                       f"**{fmt(256e6 / t256 / bare)}×** as fast as PyTorch, the most any "
                       "program calling OpenBLAS's `cblas_sgemm` can reach here.")
    gemv = [c for c in r.configs("sgemm") if c.startswith("gemv-")]
    gemm1 = [c for c in r.configs("sgemm") if c.startswith("gemm-1x")]
    if gemv and gemm1:
        out.append(f"- Batch 1, first layer alone: `cblas_sgemv` "
                   f"{fmt(r.med('sgemm', gemv[0], 'openblas', 'us_per_call'))} µs, `cblas_sgemm` "
                   f"with m = 1 {fmt(r.med('sgemm', gemm1[0], 'openblas', 'us_per_call'))} µs "
                   f"({gemv[0][5:]}); nnc's whole batch-1 prediction: "
                   f"{fmt(r.med('infer', 'batch1', 'nnc', 'us_per_sample'))} µs "
                   f"(inference-only build: CBLAS "
                   f"{fmt(r.med('infer', 'batch1', 'nnc-infer', 'us_per_sample'))} µs, "
                   f"`--no-blas` "
                   f"{fmt(r.med('infer', 'batch1', 'nnc-infer-noblas', 'us_per_sample'))} µs).")
        _, t1 = best_torch(r, "infer", "batch1", "us_per_sample")
        gemv1 = r.med("sgemm", gemv[0], "openblas", "us_per_call")
        if t1 and gemv1:
            out.append(f"  A batch-1 prediction reads every weight once ({PARAMS * 4 / 1e6:.2f} "
                       "MB here), and "
                       "its first layer is most of them: PyTorch's best one-row call takes "
                       f"{fmt(t1)} µs, so a program whose whole prediction took no longer "
                       f"than OpenBLAS's GEMV of the first layer alone would be "
                       f"**{fmt(t1 / gemv1)}×** as fast as PyTorch.")
    core = meta.get("openblas_core", "?")
    forced = meta.get("openblas_coretype_set")
    if forced:
        out.append(f"- OpenBLAS does not recognise this CPU: left alone it runs its generic "
                   f"**{meta.get('openblas_core_detected')}** (SSE) kernels. As nnc's trainers do "
                   f"by themselves (`nnrt_blas_restart`, docs/RUNTIME.md), the bench set "
                   f"`OPENBLAS_CORETYPE={forced}` for the whole run, for every contender: nnc, "
                   f"PyTorch (which loads the same libopenblas) and `sgemm_rate` all ran the "
                   f"**{core}** kernels.")
    else:
        out.append(f"- OpenBLAS chose its **{core}** kernels "
                   f"(`OPENBLAS_CORETYPE` {meta.get('env_OPENBLAS_CORETYPE')}).")
    if core.lower() in ("prescott", "core2", "penryn", "dunnington", "nehalem", "atom",
                        "katmai", "coppermine", "northwood", "banias") \
            and "avx2" in meta.get("cpu_flags", ""):
        out.append("  **This CPU has AVX2/AVX-512 but OpenBLAS did not recognise it and fell back "
                   "to generic SSE kernels**: every GEMM here, nnc's and PyTorch's alike (both load "
                   "the same libopenblas), runs several times below what the hardware can do.")
    out.append("")


def section_targets(r, meta, out):
    """The targets of the performance issue, each against this run."""
    rows = []

    def row(what, goal, value, ok, note=""):
        verdict = "n/a" if ok is None else ("met" if ok else "**not met**")
        rows.append([what, goal, value, verdict, note])

    toy = r.med("toy", "grades", "nnc", "us_per_step")
    _, toy_t = best_torch(r, "toy", "grades", "us_per_step")
    toy_f = r.med("toy", "grades", "fann", "us_per_step")
    x = ratio(toy_t, toy)
    row("toy step, nnc faster than PyTorch", "≥ 400×", f"{fmt(x)}×" if x else "n/a",
        x >= 400 if x else None)
    x = ratio(toy_f, toy)
    row("toy step, nnc faster than FANN", "≥ 6×", f"{fmt(x)}×" if x else "n/a",
        x >= 6 if x else None)
    sgd = r.med("fashion", "sgd", "nnc", "epoch_s")
    _, sgd_t = best_torch(r, "fashion", "sgd", "epoch_s")
    x = ratio(sgd_t, sgd)
    row("Fashion sgd epoch, nnc faster than PyTorch", "≥ 1.75×", f"{fmt(x)}×" if x else "n/a",
        x >= 1.75 if x else None)
    alone = r.med("sgemm", "epoch", "openblas", "gemm_s")
    wait = r.med("fashion", "sgd", "nnc", "pool_wait_s")
    x = ratio(sgd, alone)
    note = ""
    if x and wait is not None:
        note = (f"{fmt(ratio(sgd - wait, alone))}× without the {fmt(wait)} s the program's "
                "thread waits for the other core (section \"The distance to the limit\")")
    row("Fashion sgd epoch / OpenBLAS's GEMMs alone", "≤ about 1.2×",
        f"{fmt(x)}×" if x else "n/a", x <= 1.2 if x else None, note)
    for opt in ("sgd", "adam"):
        diffs = accuracy_diffs(r, meta, opt)
        d = statistics.mean(diffs) if diffs else None
        row(f"test accuracy after {meta.get('accuracy_epochs')} epochs, {opt}, nnc − PyTorch",
            "within 0.5 points", f"{d:+.2f} points" if d is not None else "n/a",
            abs(d) <= 0.5 if d is not None else None)
    _, b1 = best_nnc(r, "batch1", "us_per_sample", True)
    _, b1_t = best_torch(r, "infer", "batch1", "us_per_sample")
    x = ratio(b1_t, b1)
    gemv = [c for c in r.configs("sgemm") if c.startswith("gemv-")]
    gemv1 = r.med("sgemm", gemv[0], "openblas", "us_per_call") if gemv else None
    note = ""
    if x and gemv1:
        note = (f"PyTorch's call / OpenBLAS's GEMV of the first layer alone: "
                f"{fmt(b1_t / gemv1)}× (section \"The distance to the limit\")")
    row("inference batch 1, nnc faster than PyTorch", "≥ 4×", f"{fmt(x)}×" if x else "n/a",
        x >= 4 if x else None, note)
    _, b256 = best_nnc(r, "batch256", "samples_per_s", False)
    _, b256_t = best_torch(r, "infer", "batch256", "samples_per_s", lower_is_better=False)
    x = ratio(b256, b256_t)
    limit = r.med("infer", "batch256", "nnc-infer", "bare_gemm_us")
    note = ""
    if x and limit:
        note = (f"the most a `cblas_sgemm` caller can reach here: {fmt(256e6 / b256_t / limit)}× "
                "(section \"The distance to the limit\")")
    row("inference batch 256, nnc faster than PyTorch", "≥ 1.3×", f"{fmt(x)}×" if x else "n/a",
        x >= 1.3 if x else None, note)
    check = r.med("compile", "check-1000", "nnc", "seconds")
    build = r.med("compile", "build-1000", "nnc", "seconds")
    if check and build:
        row("nnc check / build, 1,000 layers", "< 100 ms",
            f"{fmt(1e3 * check)} / {fmt(1e3 * build)} ms", max(check, build) < 0.1)
    b250 = r.med("compile", "build-250", "nnc", "seconds")
    b2000 = r.med("compile", "build-2000", "nnc", "seconds")
    if b250 and b2000:
        growth = (b2000 / 2000) / (b250 / 250)
        row("nnc build, time per layer at 2,000 layers / at 250", "linear (about 1)",
            f"{fmt(growth)}", growth < 1.5)
    for opt in ("sgd", "adam"):
        peak = r.med("memory", opt, "nnc", "rss_peak_kb")
        start = r.med("memory", opt, "nnc", "rss_start_kb")
        if peak is None or start is None:
            continue
        est = memory_estimate(meta, opt) * 4 / 1024
        used = peak - start
        row(f"peak RSS training Fashion, {opt} (peak − start against the estimate)",
            "within 10 %", f"{fmt(used / 1024)} MB against {fmt(est / 1024)} MB "
            f"({100 * (used - est) / est:+.1f} %)", abs(used - est) <= 0.1 * est)
    out.append("## Targets\n")
    out.append("The targets of the performance work (ratios side by side in this run; "
               "\"met\" is this run's verdict, and a noisy machine moves the ratios from run "
               "to run):\n")
    out.append(table(["target", "goal", "this run", "", "note"], rows))
    out.append("")


def section_machine(meta, out):
    out.append("## Machine and libraries\n")
    rows = [
        ["CPU", f"{meta.get('cpu')} ({meta.get('cpu_flags', '').strip()}), "
                f"{meta.get('nproc')} logical CPUs (`nproc`)"],
        ["load average at start", meta.get("loadavg")],
        ["kernel", meta.get("kernel")],
        ["C compiler", f"{meta.get('gcc')}; generated C and drivers built with "
                       f"`{meta.get('cflags')} -std=c99`"],
        ["nnc", f"{meta.get('nnc_version')}, commit {meta.get('commit')}"],
        ["OpenBLAS packages", meta.get("openblas_packages")],
        ["OpenBLAS as linked by nnc", f"core {meta.get('openblas_core')}, "
                                      f"{meta.get('openblas_threads')} threads; "
                                      f"{meta.get('openblas_config')}"],
        ["OPENBLAS_CORETYPE", meta.get("env_OPENBLAS_CORETYPE") +
         (f"; set to {meta['openblas_coretype_set']} by the bench (OpenBLAS alone chose "
          f"{meta.get('openblas_core_detected')})" if meta.get("openblas_coretype_set") else "")],
        ["OPENBLAS_NUM_THREADS", meta.get("env_OPENBLAS_NUM_THREADS")],
        ["OMP_NUM_THREADS", meta.get("env_OMP_NUM_THREADS")],
    ]
    if meta.get("have_torch") == "1":
        rows += [
            ["PyTorch", f"{meta.get('torch')} ({meta.get('python')}), default "
                        f"{meta.get('torch_default_threads')} thread(s)"],
            ["PyTorch's BLAS", f"{meta.get('torch_blas')}, core {meta.get('torch_openblas_core', '?')}"],
        ]
    else:
        rows.append(["PyTorch", "not installed (`/usr/bin/python3 -c 'import torch'` failed): "
                                "nnc figures only"])
    if meta.get("have_fann") == "1":
        rows.append(["FANN", f"{meta.get('fann')}, floatfann, one thread"])
    else:
        rows.append(["FANN", f"not measured: {meta.get('fann_why') or 'unknown reason'}"])
    rows.append(["Fashion-MNIST", meta.get("data") if meta.get("have_data") == "1"
                 else "not found: workloads 2, 3 and 5 skipped"])
    parts = ", ".join(f"{k[5:]} {v} s" for k, v in meta.items() if k.startswith("time_"))
    rows.append(["whole run", f"{meta.get('seconds')} s ({parts})"])
    out.append(table(["", ""], rows))
    out.append("")


def section_reproduce(meta, commands, out):
    out.append("## How to reproduce\n")
    env = " ".join(f"{k}={meta.get('env_' + k)}" for k in
                   ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
                   if meta.get("env_" + k) not in (None, "(unset)"))
    if meta.get("openblas_coretype_set"):
        env = f"OPENBLAS_CORETYPE={meta['openblas_coretype_set']} {env}".strip()
    bench_env = meta.get("bench_env", "")
    out.append("```")
    out.append("make build/nnc build/libnnrt.a")
    out.append(" ".join(p for p in (env, bench_env, "bench/run.sh build/nnc build") if p)
               + ("" if bench_env else "     # or: make bench"))
    out.append("```\n")
    out.append("Options (environment): `BENCH_QUICK=1` (one round, one epoch, short timings), "
               "`BENCH_ROUNDS`, `BENCH_EPOCHS`, `BENCH_ACCURACY=0|1` with `BENCH_ACC_EPOCHS`, "
               "`BENCH_CFLAGS`, `BENCH_DATA`, `BENCH_TORCH=0`, `BENCH_FANN=0`, "
               "`BENCH_FANN_EPOCHS`. The individual commands run.sh ran, "
               "from the repository root, once it had generated and compiled everything "
               "under build/bench:\n")
    out.append("```")
    out.extend(commands)
    out.append("```\n")


def report(work, md_path, svg_path):
    values, meta, commands = load(work)
    r = Results(values)
    out, summary = [], []
    body = []
    section_toy(r, meta, body, summary)
    if meta.get("have_data") == "1":
        section_fashion(r, meta, body, summary)
        section_infer(r, meta, body, summary)
    section_compile(r, meta, body, summary)
    if meta.get("have_data") == "1":
        section_memory(r, meta, body, summary)
    section_scaling(r, meta, body, summary)
    section_limit(r, meta, body, summary)

    out.append("# nnc benchmarks\n")
    loadavg = meta.get("loadavg", "?")
    if meta.get("quick") == "1":
        out.append("> **QUICK RUN (`BENCH_QUICK=1`): one round, one epoch, short timings, on a "
                   f"shared machine (load average {loadavg} at the start). The figures are noisy "
                   "and only show that the harness works; do not draw conclusions from them.**\n")
    elif loadavg[:1].isdigit() and float(loadavg.split()[0]) > 0.5:
        out.append(f"> The machine was not idle when the run started (load average {loadavg}): "
                   "expect noise, compare the spreads.\n")
    intro = f"Written by `bench/run.sh` on {meta.get('date')} (commit {meta.get('commit')}). "
    if meta.get("have_torch") == "1":
        intro += ("nnc and PyTorch run the same models with the same hyperparameters, float32, "
                  "taking turns (nnc, PyTorch, nnc, ...); figures are medians over "
                  f"{meta.get('rounds')} round(s). PyTorch runs with 1 and with 2 threads "
                  "(`torch.set_num_threads`) and the faster is compared. "
                  "A ratio nnc / PyTorch below 1 means nnc is faster.\n")
    else:
        intro += ("PyTorch is not installed (`/usr/bin/python3 -c 'import torch'` fails, or "
                  "BENCH_TORCH=0): nnc figures only, medians over "
                  f"{meta.get('rounds')} round(s).\n")
    if meta.get("have_fann") == "1":
        intro += ("\nFANN 2.2.0, a C library, is a third contender for workloads 1 and 2, in the "
                  "configuration nearest to nnc's model that it can express (sections 1 and 2 say "
                  "exactly what it runs and how it differs); it takes its turn after PyTorch. "
                  "A ratio nnc / FANN below 1 means nnc is faster.\n")
    else:
        intro += f"\nFANN was not measured: {meta.get('fann_why') or 'unknown reason'}.\n"
    out.append(intro)
    out.append("## Summary\n")
    header = ["workload", "nnc", "PyTorch (best)", "nnc / PyTorch"]
    if meta.get("have_fann") == "1":
        header += ["FANN", "nnc / FANN"]
    summary = [row[:len(header)] + [""] * (len(header) - len(row)) for row in summary]
    out.append(table(header, summary))
    out.append("")
    if meta.get("have_data") == "1":
        section_targets(r, meta, out)
    section_machine(meta, out)
    out.extend(body)
    section_reproduce(meta, commands, out)
    with open(md_path, "w") as f:
        f.write("\n".join(out).rstrip() + "\n")
    with open(svg_path, "w") as f:
        f.write(scaling_svg(r, meta))


# ---- the SVG ---------------------------------------------------------------------

COLOURS = {"nnc": "#1f77b4", "torch-t1": "#d62728", "torch-t2": "#ff7f0e"}


def log_ticks(lo, hi):
    """Powers of ten (and 2, 5 times them when the range is short) in [lo, hi]."""
    ticks = []
    for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in ((1,) if hi / lo > 1e3 else (1, 2, 5)):
            t = m * 10 ** e
            if lo <= t <= hi:
                ticks.append(t)
    return ticks


def tick_label(t):
    return f"{t:g}" if t >= 0.01 or t == 0 else f"{t:.0e}"


def panel(x0, y0, w, h, title, xs, series, xlabel, ylabel, ylog, ref=None):
    """One plot: series is {impl: [(x, y) ...]} on log2 x; returns SVG."""
    pts = [(x, y) for s in series.values() for x, y in s if y and y > 0]
    if not pts:
        return ""
    ys = [y for _, y in pts] + ([ref[0]] if ref else [])
    if ylog:
        ylo, yhi = min(ys) / 1.3, max(ys) * 1.3
        fy = lambda y: y0 + h - h * (math.log(y) - math.log(ylo)) / (math.log(yhi) - math.log(ylo))
        yticks = log_ticks(ylo, yhi)
    else:
        ylo, yhi = 0.0, max(ys) * 1.1
        step = 10 ** math.floor(math.log10(yhi / 4))
        for m in (1, 2, 5, 10):
            if yhi / (m * step) <= 6:
                step *= m
                break
        fy = lambda y: y0 + h - h * (y - ylo) / (yhi - ylo)
        yticks = [k * step for k in range(int(yhi / step) + 1)]
    xlo, xhi = math.log2(min(xs)), math.log2(max(xs))
    fx = lambda x: x0 + w * (math.log2(x) - xlo) / (xhi - xlo)
    s = [f'<text x="{x0 + w / 2}" y="{y0 - 12}" text-anchor="middle" font-weight="bold">{title}</text>',
         f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#444"/>']
    for t in yticks:
        y = fy(t)
        s.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + w}" y2="{y:.1f}" stroke="#ddd"/>')
        s.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{tick_label(t)}</text>')
    for x in xs:
        X = fx(x)
        s.append(f'<line x1="{X:.1f}" y1="{y0}" x2="{X:.1f}" y2="{y0 + h}" stroke="#eee"/>')
        s.append(f'<text x="{X:.1f}" y="{y0 + h + 16}" text-anchor="middle">{x}</text>')
    s.append(f'<text x="{x0 + w / 2}" y="{y0 + h + 34}" text-anchor="middle">{xlabel}</text>')
    s.append(f'<text x="{x0 - 48}" y="{y0 + h / 2}" text-anchor="middle" '
             f'transform="rotate(-90 {x0 - 48} {y0 + h / 2})">{ylabel}</text>')
    if ref:
        y = fy(ref[0])
        s.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + w}" y2="{y:.1f}" stroke="#2ca02c" '
                 f'stroke-dasharray="6 4"/>')
        s.append(f'<text x="{x0 + w - 4}" y="{y - 5:.1f}" text-anchor="end" fill="#2ca02c">{ref[1]}</text>')
    for impl, data in series.items():
        data = [(x, y) for x, y in data if y and y > 0]
        if not data:
            continue
        colour = COLOURS.get(impl, "#555")
        dash = '' if impl == "nnc" else ' stroke-dasharray="5 3"'
        path = " ".join(f"{'M' if i == 0 else 'L'}{fx(x):.1f},{fy(y):.1f}" for i, (x, y) in enumerate(data))
        s.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for x, y in data:
            s.append(f'<circle cx="{fx(x):.1f}" cy="{fy(y):.1f}" r="3" fill="{colour}"/>')
    return "\n".join(s)


def scaling_svg(r, meta):
    impls = ["nnc"] + torch_impls(r, "scaling")
    peak = r.med("sgemm", "peak-1024", "openblas", "gflops")
    ref = (peak, f"OpenBLAS 1024³: {peak:.0f} GFLOP/s") if peak else None
    W, H = 1000, 760
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
             f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
             f'<rect width="{W}" height="{H}" fill="white"/>']
    title = "nnc vs PyTorch: one training step of 784 → W relu → 10, sgd with momentum"
    if meta.get("quick") == "1":
        title += " (QUICK, NOISY RUN)"
    parts.append(f'<text x="{W / 2}" y="24" text-anchor="middle" font-size="15" '
                 f'font-weight="bold">{title}</text>')
    for col, (series, xs, fixed) in enumerate((("width", WIDTHS, "batch 64"),
                                               ("batch", BATCHES, "width 256"))):
        times, rates = {}, {}
        for impl in impls:
            t, g = [], []
            for p in xs:
                ms = r.med("scaling", f"{series}={p}", impl, "ms_per_step")
                w, b = (p, 64) if series == "width" else (256, p)
                t.append((p, ms))
                g.append((p, step_gflop(w, b) / (ms / 1e3) if ms else None))
            times[impl], rates[impl] = t, g
        x0 = 90 + col * 480
        parts.append(panel(x0, 70, 380, 260, f"time per step, {fixed}", xs, times,
                           "hidden width W" if series == "width" else "batch B",
                           "ms per step (log)", True))
        parts.append(panel(x0, 430, 380, 260, f"GEMM flops of a step / its time, {fixed}", xs, rates,
                           "hidden width W" if series == "width" else "batch B",
                           "GFLOP/s", False, ref))
    for i, impl in enumerate(impls):
        x = 90 + i * 170
        colour = COLOURS.get(impl, "#555")
        dash = '' if impl == "nnc" else ' stroke-dasharray="5 3"'
        label = display(impl)
        parts.append(f'<line x1="{x}" y1="{H - 22}" x2="{x + 30}" y2="{H - 22}" stroke="{colour}" '
                     f'stroke-width="2"{dash}/><text x="{x + 36}" y="{H - 18}">{label}</text>')
    parts.append("</svg>\n")
    return "\n".join(parts)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit("usage: report.py WORK_DIR RESULTS_MD SCALING_SVG")
    report(*sys.argv[1:])
