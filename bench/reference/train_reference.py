"""PyTorch reference for training workloads of `geomstream bench`, on this machine's CPU.

Usage: python3 train_reference.py <mode> <networks> <width> <conditions_bits> <epochs> [threads]
  mode: 'loop'    — the idiomatic per-network loop: one nn.Module and one SGD optimizer per network;
        'batched' — the batched ensemble: weights [S, N, H], torch.bmm over the S networks.
Workload (W1 with networks = 10, width = 128, bits = 3): inputs N = 100, targets k = d (sigmoid
outputs, BCE), frozen readout (W, b1, b2 train), plain SGD lr 0.1, minibatch 64, 5000 samples
(aligned parity task, unstructured inputs, sigma = 1), reshuffled every epoch.
Prints one JSON line: network-steps per second over the timed epochs (the first epoch is a warm-up).
"""
import itertools
import json
import sys
import time

import numpy as np
import torch

mode, S, H, d, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
if len(sys.argv) > 6:
    torch.set_num_threads(int(sys.argv[6]))
N, B, n, lr, sigma = 100, 64, 5000, 0.1, 1.0
P, K = 2**d, d
rng = np.random.default_rng(0)

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
    nets, opts = [], []
    for _ in range(S):
        net = torch.nn.Sequential(torch.nn.Linear(N, H), torch.nn.Tanh(), torch.nn.Linear(H, K))
        net[2].weight.requires_grad_(False)
        nets.append(net)
        opts.append(torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=lr))

    def step(xb, yb):
        for net, opt in zip(nets, opts):
            opt.zero_grad(set_to_none=True)
            loss_fn(net(xb), yb).backward()
            opt.step()
elif mode == "batched":
    W = (torch.randn(S, N, H) / np.sqrt(N)).requires_grad_()
    b1 = (torch.randn(S, 1, H) / np.sqrt(N)).requires_grad_()
    J = torch.randn(S, H, K) / np.sqrt(H)
    b2 = (torch.randn(S, 1, K) / np.sqrt(H)).requires_grad_()
    opt = torch.optim.SGD([W, b1, b2], lr=lr)

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        z = torch.baddbmm(b1, xb.expand(S, -1, -1), W)
        logits = torch.baddbmm(b2, torch.tanh(z), J)
        # Mean over batch and outputs per network, summed over networks: each network's gradient
        # is that of its own mean loss, as in the loop.
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, yb.expand(S, -1, -1), reduction="none").mean(dim=(1, 2)).sum()
        loss.backward()
        opt.step()
else:
    raise SystemExit(f"mode: received {mode!r}; accepted: 'loop', 'batched'")

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
