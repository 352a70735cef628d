"""Writes checkpoints of the paper's network into a folder as a PyTorch training loop would:
each to a temporary name, then renamed into place (numpy + safetensors only; no torch needed).

usage: write_checkpoints.py <folder> <count> <every> <delay_s> <N> <H> <K> [seed]
Weights drift by a seeded random walk; step = i * every, in `__metadata__` and the file name.
"""
import os
import sys
import time

import numpy as np
from safetensors.numpy import save_file

folder, count, every, delay, N, H, K = sys.argv[1], *map(int, sys.argv[2:4]), float(sys.argv[4]), *map(int, sys.argv[5:8])
seed = int(sys.argv[8]) if len(sys.argv) > 8 else 0
rng = np.random.default_rng(seed)
W = (rng.normal(size=(H, N)) / np.sqrt(N)).astype(np.float32)
b1 = (rng.normal(size=H) / np.sqrt(N)).astype(np.float32)
J = (rng.normal(size=(K, H)) / np.sqrt(H)).astype(np.float32)
b2 = np.zeros(K, np.float32)
os.makedirs(folder, exist_ok=True)
for i in range(count):
    step = i * every
    W = W + (0.05 * rng.normal(size=W.shape)).astype(np.float32)
    tmp = os.path.join(folder, f".ckpt-{step}.tmp")
    save_file({"fc1.weight": W, "fc1.bias": b1, "fc2.weight": J, "fc2.bias": b2}, tmp, metadata={"step": str(step)})
    os.rename(tmp, os.path.join(folder, f"ckpt-{step:06d}.safetensors"))
    time.sleep(delay)
