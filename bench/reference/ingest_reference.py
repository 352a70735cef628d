"""The Python path for the 'ingest' workload of `geomstream bench`: checkpoints (safetensors) of
the W1 network shape read with safetensors + numpy, probed on the task's condition means, the
metric set computed with numpy, scipy and scikit-learn, the rows written to Parquet — what a
researcher would otherwise write.

Usage: python3 ingest_reference.py <checkpoint folder> <task.safetensors> <out.parquet>
Metrics per checkpoint: linear and debiased CKA and RSA (euclidean RDMs, Spearman) against input
and target, PS and CCGP (LinearSVC on the condition means, Bernardi et al.'s hold-out pairs) of
each target. Prints one JSON line: seconds, files, rows.
"""
import json
import os
import sys
import time
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from safetensors.numpy import load_file
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from geometry_reference import ccgp, debiased_cka, linear_cka, ps

warnings.simplefilter("ignore", ConvergenceWarning)


folder, task_file, out = sys.argv[1:4]
t0 = time.perf_counter()
task = load_file(task_file)
inputs, targets = task["means"].astype(np.float64), task["targets"].astype(np.float64)
signed = 2 * targets - 1
rows = []
files = sorted(f for f in os.listdir(folder) if f.endswith(".safetensors"))
for f in files:
    ckpt = load_file(os.path.join(folder, f))
    step = int(f.split("-")[1].split(".")[0])
    w, b1 = ckpt["W"].astype(np.float64), ckpt["b1"].astype(np.float64)
    h = np.tanh(inputs @ w.T + b1)
    for name, ref in (("input", inputs), ("target", signed)):
        rows.append((step, "kernel_alignment", name, None, linear_cka(h, ref)))
        rows.append((step, "debiased_cka", name, None, debiased_cka(h, ref)))
        rows.append((step, "rsa", name, None, spearmanr(pdist(h), pdist(ref)).statistic))
    for k in range(targets.shape[1]):
        pos = [c for c in range(len(h)) if targets[c, k] > 0.5]
        rows.append((step, "ps", None, f"target{k}", ps(h, pos)))
        rows.append((step, "ccgp", None, f"target{k}", ccgp(h, np.arange(len(h)), pos, LinearSVC)))
cols = list(zip(*rows))
pq.write_table(pa.table({"step": cols[0], "metric": cols[1], "against": cols[2], "dichotomy": cols[3], "value": cols[4]}), out)
print(json.dumps({"seconds": time.perf_counter() - t0, "files": len(files), "rows": len(rows)}))
