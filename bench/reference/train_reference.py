"""PyTorch reference for training workloads of `geomstream bench`, on this machine's CPU.

Usage: python3 train_reference.py <mode> <networks> <width> <conditions_bits> <epochs> [threads]
         [--depth=1] [--optimizer=sgd|adam] [--readout=frozen|trained] [--lr=0.1]
         [--activation=tanh|sigmoid|gelu|softplus|elu|relu] [--beta=1] [--alpha=1]
  mode: 'loop'    — the idiomatic per-network loop: one nn.Module and one optimizer per network;
        'batched' — the batched ensemble: weights [S, N, H] and [S, H, H], torch.baddbmm over the
                    S networks, one optimizer over the stacked tensors (Adam is element-wise, so it
                    is the same update as S separate optimizers).
Workload (W1 with networks = 10, width = 128, bits = 3): inputs N = 100, targets k = d (sigmoid
outputs, BCE), `depth` hidden layers of `width`, the readout frozen unless --readout=trained (the
biases always train), SGD (lr 0.1) or Adam (PyTorch's defaults), minibatch 64, 5000 samples (aligned
parity task, unstructured inputs, sigma = 1), reshuffled every epoch.
Prints one JSON line: network-steps per second over the timed epochs (the first epoch is a warm-up);
with --check, the parsed options instead (the bench's tests check the arguments it passes).
"""
import argparse
import itertools
import json
import time

ap = argparse.ArgumentParser()
ap.add_argument("mode", choices=["loop", "batched"])
ap.add_argument("networks", type=int)
ap.add_argument("width", type=int)
ap.add_argument("bits", type=int)
ap.add_argument("epochs", type=int)
ap.add_argument("threads", type=int, nargs="?")
ap.add_argument("--depth", type=int, default=1)
ap.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
ap.add_argument("--readout", choices=["frozen", "trained"], default="frozen")
ap.add_argument("--lr", type=float, default=0.1)
ap.add_argument("--activation", choices=["tanh", "sigmoid", "gelu", "softplus", "elu", "relu"], default="tanh")
ap.add_argument("--beta", type=float, default=1.0)
ap.add_argument("--alpha", type=float, default=1.0)
ap.add_argument("--check", action="store_true", help="print the parsed options as JSON and stop (no torch needed)")
a = ap.parse_args()
if a.check:
    print(json.dumps(vars(a)))
    raise SystemExit(0)

# After the arguments: --check and a bad argument need neither numpy nor torch.
import numpy as np  # noqa: E402
import torch  # noqa: E402

if a.threads:
    torch.set_num_threads(a.threads)
mode, S, H, d, epochs, depth = a.mode, a.networks, a.width, a.bits, a.epochs, a.depth
N, B, n, sigma = 100, 64, 5000, 1.0
P, K = 2**d, d
rng = np.random.default_rng(0)
F = torch.nn.functional
act = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "gelu": F.gelu,
    "relu": F.relu,
    "softplus": lambda z: F.softplus(z, beta=a.beta),
    "elu": lambda z: F.elu(z, alpha=a.alpha),
}[a.activation]


def optimizer(params):
    return torch.optim.Adam(params, lr=a.lr) if a.optimizer == "adam" else torch.optim.SGD(params, lr=a.lr)


# Aligned parity task with uniform weights over the P - 1 parity features (c = sqrt(k / (P - 1))).
subsets = [s for r in range(1, d + 1) for s in itertools.combinations(range(d), r)]
h = np.array([[np.prod([1 - 2 * ((p >> i) & 1) for i in s]) for s in subsets] for p in range(P)], dtype=float)
q, _ = np.linalg.qr(rng.standard_normal((N, P - 1)))
means = np.sqrt(N) * (h / np.sqrt(P - 1)) @ q.T
targets = (1 - h[:, :K]) / 2
cond = rng.integers(0, P, n)
X = torch.tensor(means[cond] + sigma * rng.standard_normal((n, N)), dtype=torch.float32)
Y = torch.tensor(targets[cond], dtype=torch.float32)
loss_fn = torch.nn.BCEWithLogitsLoss()

if mode == "loop":

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = torch.nn.ModuleList([torch.nn.Linear(N if l == 0 else H, H) for l in range(depth)])
            self.out = torch.nn.Linear(H, K)
            self.out.weight.requires_grad_(a.readout == "trained")

        def forward(self, x):
            for layer in self.hidden:
                x = act(layer(x))
            return self.out(x)

    nets = [Net() for _ in range(S)]
    opts = [optimizer([p for p in net.parameters() if p.requires_grad]) for net in nets]

    def step(xb, yb):
        for net, opt in zip(nets, opts):
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xb), yb).backward()
            opt.step()

else:
    Ws = [(torch.randn(S, N if l == 0 else H, H) / np.sqrt(N if l == 0 else H)).requires_grad_() for l in range(depth)]
    bs = [(torch.randn(S, 1, H) / np.sqrt(N if l == 0 else H)).requires_grad_() for l in range(depth)]
    J = (torch.randn(S, H, K) / np.sqrt(H)).requires_grad_(a.readout == "trained")
    b2 = (torch.randn(S, 1, K) / np.sqrt(H)).requires_grad_()
    opt = optimizer(Ws + bs + [b2] + ([J] if a.readout == "trained" else []))

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        z = xb.expand(S, -1, -1)
        for W, b in zip(Ws, bs):
            z = act(torch.baddbmm(b, z, W))
        logits = torch.baddbmm(b2, z, J)
        # Mean over batch and outputs per network, summed over networks: each network's gradient
        # is that of its own mean loss, as in the loop.
        loss = F.binary_cross_entropy_with_logits(logits, yb.expand(S, -1, -1), reduction="none").mean(dim=(1, 2)).sum()
        loss.backward()
        opt.step()

steps, elapsed = 0, 0.0
for epoch in range(epochs + 1):
    perm = torch.randperm(n)
    Xe, Ye = X[perm], Y[perm]
    t0 = time.perf_counter()
    for start in range(0, n, B):
        step(Xe[start:start + B], Ye[start:start + B])
        if epoch > 0:
            steps += 1
    if epoch > 0:
        elapsed += time.perf_counter() - t0
print(json.dumps({"mode": mode, "networks": S, "netStepsPerSec": S * steps / elapsed, "threads": torch.get_num_threads(), "torch": torch.__version__}))
