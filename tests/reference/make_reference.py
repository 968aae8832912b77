#!/usr/bin/python3
"""make_reference.py: reference values for tests/reference, from PyTorch.

Run it from anywhere with Debian's Python, the one that has torch:

    /usr/bin/python3 tests/reference/make_reference.py          # all models
    /usr/bin/python3 tests/reference/make_reference.py cce_adam # some of them

It rewrites tests/reference/data/, which is committed so that the tests
(run.sh, check_reference.c) need neither Python nor PyTorch. The output is
deterministic: a rerun on the same machine writes the same bytes.

For every models/NAME.nn this script holds a hand-written PyTorch
equivalent (MODELS below: the parameters in nnc's order and a forward
function). It draws initial parameters (Glorot-uniform weights, small
uniform biases), an input batch x and valid targets y from a NumPy
RandomState seeded with the model's `seed`, rounds them all to float32 so
that f32 and f64 builds of the model start from the very same numbers, then
computes in float64 with torch autograd:

    out0        the model's outputs for x at the initial parameters
    loss0       the mean loss (Keras's reduction) at the initial parameters
    grad_flat   the gradient of loss0 with respect to every parameter
    loss_steps  the loss before each of 10 optimizer steps on the same batch
    final_flat  the parameters after those 10 steps

The optimizers are written out by hand following Keras 3's update rules
(keras/src/optimizers/*.py), on top of autograd's gradients; see
KerasOptimizer. torch.optim implements the same rules up to where epsilon
goes, so as a sanity check every model's 10 steps are replayed with
torch.optim and epsilon ~ 0 on both sides, and must agree; autograd's
gradients are also checked against central finite differences.

Files written per model, all little-endian safetensors:

    data/NAME.safetensors            F64, what check_reference.c compares:
        x [batch, input size] (the input flattened row-major per example),
        y [batch, target size] (sparse losses: the class id as a float),
        out0 [batch, output size], loss0 [], init_flat, grad_flat and
        final_flat [parameter count] in nnc's parameter-block order (layers
        in IR order, each dense layer's weight [out, in] then its bias
        [out]), loss_steps [10], and param_tensor [parameter count]: the
        index (0, 1, ...) of the parameter tensor each flat element belongs
        to. The header's __metadata__ also holds "layout", which names the
        parameter tensors and their flat index ranges.
    data/NAME.params.f32.safetensors the initial parameters under nnc's
    data/NAME.params.f64.safetensors names (LAYER.weight [out, in],
        LAYER.bias [out]), for NAME_load of an f32 or an f64 build.

The safetensors package is not in Debian, so files are read and written by
hand (write_safetensors/read_safetensors): an 8-byte little-endian header
length N, N bytes of JSON padded with spaces to a multiple of 8, the data.
"""

import json
import os
import re
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.join(HERE, "models")
DATA_DIR = os.path.join(HERE, "data")

STEPS = 10          # optimizer steps recorded in loss_steps / final_flat
BIAS_LIMIT = 0.2    # initial biases are uniform in [-BIAS_LIMIT, BIAS_LIMIT)

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)   # one thread: the same summation order every run


# ---------------------------------------------------------------------------
# safetensors by hand
# ---------------------------------------------------------------------------

NP_DTYPES = {"F32": "<f4", "F64": "<f8"}


def write_safetensors(path, tensors, metadata=None):
    """Writes [(name, "F32"|"F64", array)] in that order to path."""
    header = {}
    blobs = []
    offset = 0
    for name, dtype, array in tensors:
        data = np.ascontiguousarray(array, dtype=NP_DTYPES[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(np.shape(array)),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    meta = {"format": "pt"}
    meta.update(metadata or {})
    header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def read_safetensors(path):
    """Returns ({name: float64 array}, metadata) read from path."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        a = np.frombuffer(raw[base + begin:base + end],
                          dtype=NP_DTYPES[info["dtype"]])
        out[name] = a.reshape(info["shape"]).astype(np.float64)
    return out, meta


# ---------------------------------------------------------------------------
# the building blocks of the hand-written models
# ---------------------------------------------------------------------------

def dense(P, name, h):
    """nnc's dense layer without its activation: h W^T + b (b if present)."""
    z = h @ P[name + ".weight"].T
    bias = P.get(name + ".bias")
    return z if bias is None else z + bias


def linear(z):
    return z


def softmax(z):
    return torch.softmax(z, dim=-1)


def swish(z):                       # activation swish(x) = x * sigmoid(x)
    return z * torch.sigmoid(z)


def bumpy(z):
    # activation bumpy(x) = -x^2 / 10 + x / (1 + abs(x)) + abs(x)^1.5 / 4
    return -(z ** 2) / 10 + z / (1 + torch.abs(z)) + torch.abs(z) ** 1.5 / 4


# ---------------------------------------------------------------------------
# the models: parameters in nnc's order, and the forward pass
#
# Each params row is (layer name, units, inputs, has bias); the layer names
# follow docs/LANGUAGE.md section 9. The order is nnc's parameter-block
# order: the dense layers in IR (source) order.
# ---------------------------------------------------------------------------

def fwd_dense_sgd(P, x):
    h = torch.tanh(dense(P, "dense_1", x))
    h = linear(dense(P, "dense_2", h))
    return dense(P, "dense_3", h)


def fwd_act_layers(P, x):
    h = torch.relu(dense(P, "dense_1", x))
    h = linear(torch.sin(dense(P, "dense_2", h)))
    h = torch.cos(torch.tanh(dense(P, "dense_3", h)))
    h = softmax(dense(P, "dense_4", h))
    h = torch.sigmoid(dense(P, "dense_5", h))
    return dense(P, "dense_6", h)


def fwd_bce_nesterov(P, x):
    h = torch.sin(dense(P, "dense_1", x))
    h = torch.cos(dense(P, "dense_2", h))
    return torch.sigmoid(dense(P, "dense_3", h))


def fwd_cce_adam(P, x):
    h = torch.relu(dense(P, "dense_1", x))
    return softmax(dense(P, "dense_2", h))


def fwd_scce_rmsprop(P, x):
    h = swish(dense(P, "dense_1", x))
    h = swish(dense(P, "dense_2", h))
    return softmax(dense(P, "dense_3", h))


def fwd_custom_rmsprop_momentum(P, x):
    h = bumpy(dense(P, "dense_1", x))
    h = bumpy(dense(P, "dense_2", h))
    return dense(P, "dense_3", h)


def fwd_flatten_adagrad(P, x):
    h = x.reshape(x.shape[0], -1)               # flatten, row-major
    h = torch.tanh(dense(P, "dense_1", h))
    # dropout(0) is the identity
    return dense(P, "dense_2", h)


def fwd_add_graph(P, x):
    h = torch.tanh(dense(P, "h", x))
    a = torch.sin(dense(P, "a", h))
    b = torch.sigmoid(dense(P, "dense_1", h))
    c = dense(P, "c", x)
    return dense(P, "s", a + b + c)


def fwd_wide_deep(P, x):
    deep = swish(dense(P, "dense_1", x))
    deep = torch.relu(dense(P, "deep", deep))
    wide = dense(P, "wide", x)
    h = torch.cat([deep, wide], dim=-1)
    # dropout(0) is the identity
    return softmax(dense(P, "y", h))


def fwd_concat_bce(P, x):
    a = torch.tanh(dense(P, "a", x))
    b = torch.cos(dense(P, "b", a))
    c = torch.cat([x, a, b], dim=-1)
    return torch.sigmoid(dense(P, "dense_1", c))


MODELS = {
    "dense_sgd": ([("dense_1", 6, 4, True), ("dense_2", 5, 6, False),
                   ("dense_3", 3, 5, True)], fwd_dense_sgd),
    "act_layers": ([("dense_1", 6, 4, True), ("dense_2", 6, 6, True),
                    ("dense_3", 5, 6, True), ("dense_4", 4, 5, True),
                    ("dense_5", 3, 4, True), ("dense_6", 2, 3, False)],
                   fwd_act_layers),
    "bce_nesterov": ([("dense_1", 5, 3, True), ("dense_2", 4, 5, True),
                      ("dense_3", 3, 4, True)], fwd_bce_nesterov),
    "cce_adam": ([("dense_1", 8, 5, True), ("dense_2", 4, 8, True)],
                 fwd_cce_adam),
    "scce_rmsprop": ([("dense_1", 6, 4, True), ("dense_2", 5, 6, True),
                      ("dense_3", 3, 5, True)], fwd_scce_rmsprop),
    "custom_rmsprop_momentum": ([("dense_1", 6, 3, True),
                                 ("dense_2", 4, 6, True),
                                 ("dense_3", 2, 4, True)],
                                fwd_custom_rmsprop_momentum),
    "flatten_adagrad": ([("dense_1", 5, 6, True), ("dense_2", 2, 5, True)],
                        fwd_flatten_adagrad),
    "add_graph": ([("h", 6, 4, True), ("a", 4, 6, True),
                   ("dense_1", 4, 6, True), ("c", 4, 4, False),
                   ("s", 2, 4, True)], fwd_add_graph),
    "wide_deep": ([("dense_1", 6, 3, True), ("deep", 5, 6, True),
                   ("wide", 2, 3, True), ("y", 3, 7, True)], fwd_wide_deep),
    "concat_bce": ([("a", 4, 3, True), ("b", 3, 4, True),
                    ("dense_1", 1, 10, True)], fwd_concat_bce),
}


# ---------------------------------------------------------------------------
# what the script reads from the .nn file itself, so the two cannot drift
# ---------------------------------------------------------------------------

# Positional order and Keras defaults of each optimizer's arguments, as in
# docs/LANGUAGE.md section 7.
OPT_ARGS = {
    "sgd": [("learning_rate", 0.01), ("momentum", 0.0), ("nesterov", 0.0)],
    "adam": [("learning_rate", 0.001), ("beta_1", 0.9), ("beta_2", 0.999),
             ("epsilon", 1e-7)],
    "rmsprop": [("learning_rate", 0.001), ("rho", 0.9), ("momentum", 0.0),
                ("epsilon", 1e-7)],
    "adagrad": [("learning_rate", 0.001),
                ("initial_accumulator_value", 0.1), ("epsilon", 1e-7)],
}


def parse_settings(path):
    """Reads input shape, loss, optimizer, batch and seed from a .nn file.

    Only the simple forms the reference models use are understood; anything
    else is an error, not a silent default."""
    with open(path) as f:
        text = re.sub(r"(#|//).*", "", f.read())

    def one(pattern, what):
        found = re.findall(pattern, text)
        if len(found) != 1:
            sys.exit(f"{path}: expected exactly one {what}")
        return found[0]

    shape = [int(d) for d in one(r"\binput\s+\w+\s*\[([^\]]*)\]",
                                 "input").split(",")]
    loss = one(r"\bloss\s+(\w+)", "loss")
    opt_name, opt_text = one(r"\boptimizer\s+(\w+)\s*\(([^)]*)\)",
                             "optimizer NAME(...)")
    args = OPT_ARGS[opt_name]
    hp = dict(args)
    words = [w.strip() for w in opt_text.split(",") if w.strip()]
    for i, word in enumerate(words):
        key, _, value = word.rpartition("=")
        key = key.strip() or args[i][0]
        value = value.strip()
        bools = {"true": 1.0, "false": 0.0}
        hp[key] = bools[value] if value in bools else float(value)
    return {"input": shape, "loss": loss, "opt": opt_name, "hp": hp,
            "batch": int(one(r"\bbatch\s+(\d+)", "batch")),
            "seed": int(one(r"\bseed\s+(\d+)", "seed"))}


# ---------------------------------------------------------------------------
# losses, reduced as Keras and PyTorch do by default: a mean over the batch
# ---------------------------------------------------------------------------

def loss_fn(kind, p, t):
    if kind == "mse":
        return ((p - t) ** 2).mean()
    if kind == "mae":
        return (p - t).abs().mean()
    if kind == "binary_crossentropy":    # from probabilities, per unit
        return -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean()
    if kind == "categorical_crossentropy":
        return -(t * torch.log(p)).sum(dim=-1).mean()
    if kind == "sparse_categorical_crossentropy":
        ids = t[:, 0].long()
        return -torch.log(p[torch.arange(p.shape[0]), ids]).mean()
    raise ValueError(kind)


def make_targets(kind, rng, batch, units):
    """Valid targets as the generated C takes them, row-major floats."""
    if kind in ("mse", "mae"):
        return f32(rng.uniform(-1.0, 1.0, size=(batch, units)))
    if kind == "binary_crossentropy":
        return rng.randint(0, 2, size=(batch, units)).astype(np.float64)
    ids = rng.randint(0, units, size=batch)
    if kind == "categorical_crossentropy":
        return np.eye(units)[ids]
    if kind == "sparse_categorical_crossentropy":
        return ids.astype(np.float64).reshape(batch, 1)
    raise ValueError(kind)


# ---------------------------------------------------------------------------
# the optimizers, Keras 3's update rules (keras/src/optimizers/*.py)
# ---------------------------------------------------------------------------

class KerasOptimizer:
    """One optimizer's state for a list of parameters; step() updates them.

    Every rule below is Keras's, one variable at a time:
      sgd      v = momentum v - lr g;  w += v
               (nesterov: w += momentum v - lr g; momentum 0: w -= lr g)
      adam     m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
               alpha = lr sqrt(1 - b2^t) / (1 - b1^t), t counting from 1;
               w -= alpha m / (sqrt(v) + eps)
      rmsprop  v = rho v + (1-rho) g^2;  inc = lr g / sqrt(v + eps);
               momentum > 0: mom = momentum mom + inc; w -= mom
               else w -= inc
      adagrad  acc starts at initial_accumulator_value;  acc += g^2;
               w -= lr g / sqrt(acc + eps)
    Note where epsilon goes: outside the square root for adam, inside it
    for rmsprop and adagrad (Keras's rmsprop.py and adagrad.py add epsilon
    to the accumulator before ops.sqrt, adam.py adds it after).
    """

    def __init__(self, kind, hp, params):
        self.kind, self.hp, self.t = kind, hp, 0
        zeros = [torch.zeros_like(w) for w in params]
        if kind == "sgd":
            self.v = zeros
        elif kind == "adam":
            self.m, self.v = zeros, [torch.zeros_like(w) for w in params]
        elif kind == "rmsprop":
            self.v, self.mom = zeros, [torch.zeros_like(w) for w in params]
        elif kind == "adagrad":
            self.acc = [torch.full_like(w, hp["initial_accumulator_value"])
                        for w in params]
        else:
            raise ValueError(kind)

    @torch.no_grad()
    def step(self, params, grads):
        hp, lr = self.hp, self.hp["learning_rate"]
        self.t += 1
        for i, (w, g) in enumerate(zip(params, grads)):
            if self.kind == "sgd":
                mu = hp["momentum"]
                if mu == 0:
                    w -= lr * g
                    continue
                self.v[i] = mu * self.v[i] - lr * g
                if hp["nesterov"]:
                    w += mu * self.v[i] - lr * g
                else:
                    w += self.v[i]
            elif self.kind == "adam":
                b1, b2 = hp["beta_1"], hp["beta_2"]
                alpha = lr * (1 - b2 ** self.t) ** 0.5 / (1 - b1 ** self.t)
                self.m[i] = b1 * self.m[i] + (1 - b1) * g
                self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
                w -= alpha * self.m[i] / (self.v[i].sqrt() + hp["epsilon"])
            elif self.kind == "rmsprop":
                rho, mu = hp["rho"], hp["momentum"]
                self.v[i] = rho * self.v[i] + (1 - rho) * g * g
                inc = lr * g / (self.v[i] + hp["epsilon"]).sqrt()
                if mu > 0:
                    self.mom[i] = mu * self.mom[i] + inc
                    w -= self.mom[i]
                else:
                    w -= inc
            else:
                self.acc[i] += g * g
                w -= lr * g / (self.acc[i] + hp["epsilon"]).sqrt()


def torch_optimizer(kind, hp, params, eps):
    """torch.optim's version of the same optimizer, with epsilon eps."""
    lr = hp["learning_rate"]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=hp["momentum"],
                               nesterov=bool(hp["nesterov"]))
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr,
                                betas=(hp["beta_1"], hp["beta_2"]), eps=eps)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=hp["rho"],
                                   momentum=hp["momentum"], eps=eps)
    return torch.optim.Adagrad(
        params, lr=lr, eps=eps,
        initial_accumulator_value=hp["initial_accumulator_value"])


# ---------------------------------------------------------------------------
# one model
# ---------------------------------------------------------------------------

def f32(a):
    """a rounded to the nearest float32, kept as float64."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


class Reference:
    def __init__(self, name):
        self.name = name
        self.layers, self.forward = MODELS[name]
        self.cfg = parse_settings(os.path.join(MODELS_DIR, name + ".nn"))
        self.names, self.shapes = [], []
        for layer, units, inputs, bias in self.layers:
            self.names.append(layer + ".weight")
            self.shapes.append((units, inputs))
            if bias:
                self.names.append(layer + ".bias")
                self.shapes.append((units,))

        # Every random number comes from this one stream, in this order.
        rng = np.random.RandomState(self.cfg["seed"])
        self.init = []
        for shape in self.shapes:
            if len(shape) == 2:
                limit = (6.0 / (shape[0] + shape[1])) ** 0.5
            else:
                limit = BIAS_LIMIT
            self.init.append(f32(rng.uniform(-limit, limit, size=shape)))
        batch = self.cfg["batch"]
        self.x = f32(rng.uniform(-1.0, 1.0,
                                 size=[batch] + self.cfg["input"]))
        units = self.layers[-1][1]
        self.y = make_targets(self.cfg["loss"], rng, batch, units)

    def params(self, values):
        return [torch.tensor(v, requires_grad=True) for v in values]

    def loss_and_grads(self, params):
        P = dict(zip(self.names, params))
        out = self.forward(P, torch.tensor(self.x))
        loss = loss_fn(self.cfg["loss"], out, torch.tensor(self.y))
        grads = torch.autograd.grad(loss, params)
        return out.detach(), loss.detach(), grads

    def train(self, opt_maker):
        """STEPS steps from the initial parameters: (losses, final)."""
        params = self.params(self.init)
        opt = opt_maker(params)
        losses = []
        for _ in range(STEPS):
            _, loss, grads = self.loss_and_grads(params)
            losses.append(loss.item())
            opt(params, grads)
        return np.array(losses), [p.detach().numpy().copy() for p in params]

    def compute(self):
        cfg = self.cfg
        params = self.params(self.init)
        self.out0, loss0, grads = self.loss_and_grads(params)
        self.loss0 = loss0.item()
        self.grads = [g.numpy() for g in grads]

        keras = lambda ps: KerasOptimizer(cfg["opt"], cfg["hp"], ps).step
        self.loss_steps, self.final = self.train(keras)
        assert self.loss_steps[0] == self.loss0

        self.check_gradients()
        self.check_against_torch_optim()

    def check_gradients(self):
        """autograd against central differences, parameter by parameter."""
        h = 1e-6
        P = {n: torch.tensor(v) for n, v in zip(self.names, self.init)}
        x, y = torch.tensor(self.x), torch.tensor(self.y)
        scale = 1 + max(np.abs(g).max() for g in self.grads)
        for name, g in zip(self.names, self.grads):
            flat = P[name].view(-1)
            for i in range(flat.numel()):
                keep = flat[i].item()
                flat[i] = keep + h
                up = loss_fn(self.cfg["loss"], self.forward(P, x), y).item()
                flat[i] = keep - h
                down = loss_fn(self.cfg["loss"], self.forward(P, x), y).item()
                flat[i] = keep
                fd = (up - down) / (2 * h)
                if abs(fd - g.reshape(-1)[i]) > 1e-6 * scale:
                    sys.exit(f"{self.name}: d loss / d {name}[{i}]: autograd "
                             f"{g.reshape(-1)[i]!r}, finite difference {fd!r}")

    def check_against_torch_optim(self):
        """Replays the steps with torch.optim, epsilon ~ 0 on both sides.

        With epsilon out of the way (1e-300: it still keeps 0/0 at 0 where
        a gradient is exactly zero, as behind a dead relu) torch.optim and
        Keras's rules are the same algebra: torch keeps SGD's velocity as
        -v/lr, RMSprop's momentum buffer as mom/lr, and Adam's bias
        corrections apart, so this checks KerasOptimizer's bookkeeping."""
        cfg = self.cfg
        hp = dict(cfg["hp"], epsilon=1e-300)
        mine = self.train(
            lambda ps: KerasOptimizer(cfg["opt"], hp, ps).step)

        def torch_step(params):
            opt = torch_optimizer(cfg["opt"], hp, params, 1e-300)

            def step(ps, grads):
                for p, g in zip(ps, grads):
                    p.grad = g.clone()
                opt.step()
            return step
        theirs = self.train(torch_step)
        assert np.allclose(mine[0], theirs[0], rtol=1e-10, atol=0), self.name
        for a, b in zip(mine[1], theirs[1]):
            assert np.allclose(a, b, rtol=1e-9, atol=1e-12), \
                (self.name, np.abs(a - b).max())

    def param_tensor(self):
        """For each element of the flat block, which parameter tensor (0, 1,
        ...) it belongs to: the harness scales errors per tensor."""
        return np.concatenate([np.full(int(np.prod(shape)), float(k))
                               for k, shape in enumerate(self.shapes)])

    def layout(self):
        """"dense_1.weight [6, 4] 0..24; ..." for the metadata."""
        parts, at = [], 0
        for name, shape in zip(self.names, self.shapes):
            n = int(np.prod(shape))
            dims = ", ".join(str(d) for d in shape)
            parts.append(f"{name} [{dims}] {at}..{at + n}")
            at += n
        return "; ".join(parts)

    def write(self):
        batch = self.cfg["batch"]
        flat = lambda arrays: np.concatenate([a.reshape(-1) for a in arrays])
        stem = os.path.join(DATA_DIR, self.name)
        meta = {"model": self.name, "layout": self.layout(),
                "generator": "tests/reference/make_reference.py"}
        write_safetensors(stem + ".safetensors", [
            ("x", "F64", self.x.reshape(batch, -1)),
            ("y", "F64", self.y),
            ("out0", "F64", self.out0.numpy()),
            ("loss0", "F64", np.array(self.loss0)),
            ("init_flat", "F64", flat(self.init)),
            ("grad_flat", "F64", flat(self.grads)),
            ("loss_steps", "F64", self.loss_steps),
            ("final_flat", "F64", flat(self.final)),
            ("param_tensor", "F64", self.param_tensor()),
        ], meta)
        for dtype, suffix in (("F32", "f32"), ("F64", "f64")):
            write_safetensors(f"{stem}.params.{suffix}.safetensors",
                              [(n, dtype, v)
                               for n, v in zip(self.names, self.init)])

        # Read back what was written: the writer is ours too.
        got, meta_back = read_safetensors(stem + ".safetensors")
        assert meta_back == dict(meta, format="pt")
        assert np.array_equal(got["grad_flat"], flat(self.grads))
        for suffix in ("f32", "f64"):
            got, _ = read_safetensors(f"{stem}.params.{suffix}.safetensors")
            for n, v in zip(self.names, self.init):
                assert np.array_equal(got[n], v), (n, suffix)


def main(argv):
    names = argv or sorted(MODELS)
    on_disk = sorted(f[:-3] for f in os.listdir(MODELS_DIR)
                     if f.endswith(".nn"))
    if not argv and on_disk != sorted(MODELS):
        sys.exit(f"models/ has {on_disk}, the script knows {sorted(MODELS)}")
    os.makedirs(DATA_DIR, exist_ok=True)
    for name in names:
        if name not in MODELS:
            sys.exit(f"unknown model {name!r}; known: {', '.join(MODELS)}")
        ref = Reference(name)
        ref.compute()
        ref.write()
        print(f"{name:24s} {sum(v.size for v in ref.init):4d} params  "
              f"loss {ref.loss_steps[0]:.6f} -> {ref.loss_steps[-1]:.6f}  "
              f"({ref.cfg['loss']}, {ref.cfg['opt']})")


if __name__ == "__main__":
    main(sys.argv[1:])
