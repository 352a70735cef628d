"""The default pipeline's whole work (pipelines/tanh-vs-relu.ts) in PyTorch + numpy + scikit-learn,
for `geomstream bench` (workload 'e2e'): what a researcher would otherwise write, using both cores
(torch on 2 threads for training; the classifier fits spread over 2 processes with joblib).

Usage: python3 e2e_reference.py <problem.json> <out_dir> [cores]
(cores, default 2: torch's threads and joblib's processes, as many as geomstream's workers; its
imports are outside the timing, geomstream's worker start-up inside.)
The problem (written by src/bench/e2e.ts) holds, per ensemble, the task's condition means and
targets and the activation, and the pipeline's settings: networks per ensemble, width, SGD lr, epochs,
batch, training samples, the checkpoint steps, probe samples per condition, the 35 balanced
dichotomies and the folds. Per ensemble it trains the networks as one batched ensemble (bmm, frozen
readout), and at every checkpoint evaluates loss and accuracy on the training set, computes the
hidden activity of the condition means and of the probe's noisy samples (the same samples at every
checkpoint), linear CKA against the input and target kernels per network and of the
ensemble-average kernel, and the parallelism score of each target; at the final checkpoint, CCGP
(LinearSVC, every held-out pair) of each target and the shattering dimensionality (RidgeClassifier,
5-fold CV over the dichotomies) per network. Every row goes to Parquet (pyarrow).
Prints one JSON line: wall time in seconds, rows written, and the seconds spent training, at the
checkpoints and in the final fits.
"""
import json
import os
import sys
import time
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeClassifier
from sklearn.svm import LinearSVC

from geometry_reference import ccgp, linear_cka, ps

warnings.simplefilter("ignore", ConvergenceWarning)


def centered(k):
    n = k.shape[0]
    h = np.eye(n) - 1 / n
    return h @ k @ h


def alignment(k1, k2):
    a, b = centered(k1), centered(k2)
    return float(a.ravel() @ b.ravel() / (np.linalg.norm(a) * np.linalg.norm(b)))


def sd_one(x, cond, side, folds):
    y = np.isin(cond, side).astype(int)
    accs = []
    for f in np.unique(folds):
        tr, te = folds != f, folds == f
        accs.append(RidgeClassifier().fit(x[tr], y[tr]).score(x[te], y[te]))
    return float(np.mean(accs))


def ccgp_one(x, cond, pos):
    return ccgp(x, cond, pos, LinearSVC)


def main():
    problem = json.load(open(sys.argv[1]))
    out_dir = sys.argv[2]
    cores = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    t0 = time.perf_counter()
    torch.set_num_threads(cores)
    S, H, lr, epochs, B, n = (problem[k] for k in ("seeds", "width", "lr", "epochs", "batch", "samples"))
    per, sigma = problem["samplesPerCondition"], problem["sigma"]
    schedule = set(problem["checkpoints"])
    acts = {"tanh": torch.tanh, "relu": torch.relu}
    rows, final_jobs, final_keys = [], [], []
    spent = {"training": 0.0, "checkpoints": 0.0}
    for gi, g in enumerate(problem["grid"]):
        means, targets = np.asarray(g["means"]), np.asarray(g["targets"])
        P, N = means.shape
        K = targets.shape[1]
        t = 2 * targets - 1
        rng = np.random.default_rng(gi)
        cond = rng.integers(0, P, n)
        X = torch.tensor(means[cond] + sigma * rng.standard_normal((n, N)), dtype=torch.float32)
        Y = torch.tensor(targets[cond], dtype=torch.float32)
        pcond = np.repeat(np.arange(P), per)
        probes = torch.tensor(means[pcond] + sigma * rng.standard_normal((S, P * per, N)), dtype=torch.float32)
        M = torch.tensor(means, dtype=torch.float32)
        for act_name in [g["activation"]]:
            act = acts[act_name]
            W = (torch.randn(S, N, H) / np.sqrt(N)).requires_grad_()
            b1 = (torch.randn(S, 1, H) / np.sqrt(N)).requires_grad_()
            J = torch.randn(S, H, K) / np.sqrt(H)
            b2 = (torch.randn(S, 1, K) / np.sqrt(H)).requires_grad_()
            opt = torch.optim.SGD([W, b1, b2], lr=lr)

            def checkpoint(step, final):
                tc = time.perf_counter()
                with torch.no_grad():
                    logits = torch.baddbmm(b2, act(torch.baddbmm(b1, X.expand(S, -1, -1), W)), J)
                    loss = torch.nn.functional.binary_cross_entropy_with_logits(
                        logits, Y.expand(S, -1, -1), reduction="none").mean(dim=(1, 2))
                    acc = ((logits > 0).float() == Y).float().mean(dim=(1, 2))
                    hm = act(torch.baddbmm(b1, M.expand(S, -1, -1), W)).double().numpy()
                    hs = act(torch.baddbmm(b1, probes, W)).numpy()
                for s in range(S):
                    key = dict(ensemble=f"{gi}/{act_name}", network=s, step=step)
                    rows.append({**key, "metric": "loss", "against": None, "value": float(loss[s])})
                    rows.append({**key, "metric": "accuracy", "against": None, "value": float(acc[s])})
                    for name, ref in (("input", means), ("target", t)):
                        rows.append({**key, "metric": "kernel_alignment", "against": name, "value": linear_cka(hm[s], ref)})
                    for k in range(K):
                        pos = [c for c in range(P) if targets[c, k] > 0.5]
                        rows.append({**key, "metric": "ps", "against": f"target{k}", "value": ps(hm[s], pos)})
                        if final:
                            final_keys.append({**key, "metric": "ccgp", "against": f"target{k}"})
                            final_jobs.append(delayed(ccgp_one)(hs[s], pcond, pos))
                    if final:
                        for side in problem["dichotomies"]:
                            final_keys.append({**key, "metric": "sd_dichotomy", "against": None})
                            final_jobs.append(delayed(sd_one)(hs[s], pcond, side, np.asarray(problem["folds"])))
                kbar = np.mean([h @ h.T for h in hm], axis=0)
                for name, ref in (("input", means), ("target", t)):
                    rows.append(dict(ensemble=f"{gi}/{act_name}", network=-1, step=step, metric="kernel_alignment",
                                     against=name, value=alignment(kbar, ref @ ref.T)))
                spent["checkpoints"] += time.perf_counter() - tc

            step = 0
            total = epochs * -(-n // B)
            tt = time.perf_counter()
            checkpoint(0, False)
            for _ in range(epochs):
                perm = torch.randperm(n)
                Xe, Ye = X[perm], Y[perm]
                for start in range(0, n, B):
                    opt.zero_grad(set_to_none=True)
                    z = torch.baddbmm(b1, Xe[start:start + B].expand(S, -1, -1), W)
                    logits = torch.baddbmm(b2, act(z), J)
                    loss = torch.nn.functional.binary_cross_entropy_with_logits(
                        logits, Ye[start:start + B].expand(S, -1, -1), reduction="none").mean(dim=(1, 2)).sum()
                    loss.backward()
                    opt.step()
                    step += 1
                    if step in schedule or step == total:
                        checkpoint(step, step == total)
            spent["training"] += time.perf_counter() - tt
    spent["training"] -= spent["checkpoints"]
    tf = time.perf_counter()
    values = Parallel(n_jobs=cores)(final_jobs)
    spent["fits"] = time.perf_counter() - tf
    # SD: the mean over a network's dichotomies.
    sd = {}
    for k, v in zip(final_keys, values):
        if k["metric"] == "sd_dichotomy":
            sd.setdefault((k["ensemble"], k["network"], k["step"]), []).append(v)
        else:
            rows.append({**k, "value": v})
    for (e, s, step), v in sd.items():
        rows.append(dict(ensemble=e, network=s, step=step, metric="sd", against=None, value=float(np.mean(v))))
    os.makedirs(out_dir, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), os.path.join(out_dir, "metrics.parquet"), compression="zstd")
    print(json.dumps({"seconds": time.perf_counter() - t0, "rows": len(rows), "jobs": len(final_jobs), "spent": spent}))


main()
