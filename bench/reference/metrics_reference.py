"""The full geometry metric set on one representation, in numpy + scikit-learn + scipy: the Python
path a researcher would otherwise write, timed for `geomstream bench` (workload 'metrics').

Usage: python3 metrics_reference.py <problem.json> <repeats> [svm|ridge]
The problem holds the condition means (P x H), noisy samples (n x H) with condition labels and
fold assignment, input means and targets, and the dichotomies. Prints one JSON line with the
median wall time in seconds and the metric values (for a sanity comparison).
"""
import json
import sys
import time
import warnings

import numpy as np
from scipy.spatial.distance import pdist
from scipy.stats import kendalltau, spearmanr
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeClassifier
from sklearn.svm import LinearSVC

from geometry_reference import ccgp, debiased_cka, linear_cka, ps

warnings.simplefilter("ignore", ConvergenceWarning)


def rbf(x, threshold=1.0):
    d = np.sum(x * x, 1)[:, None] + np.sum(x * x, 1)[None, :] - 2 * x @ x.T
    return np.exp(-d / (2 * threshold**2 * np.median(d)))


def kernel_alignment(k1, k2):
    n = k1.shape[0]
    h = np.eye(n) - 1 / n
    a, b = h @ k1 @ h, h @ k2 @ h
    return (a.ravel() @ b.ravel()) / (np.linalg.norm(a) * np.linalg.norm(b))


def cv_accuracy(x, y, folds):
    accs = []
    for f in np.unique(folds):
        tr, te = folds != f, folds == f
        accs.append(CLASSIFIER().fit(x[tr], y[tr]).score(x[te], y[te]))
    return float(np.mean(accs))


def all_metrics(p):
    means, inputs, targets = np.asarray(p["means"]), np.asarray(p["inputs"]), np.asarray(p["targets"])
    x, cond, folds = np.asarray(p["samples"]), np.asarray(p["conditions"]), np.asarray(p["folds"])
    t = 2 * targets - 1
    out = {}
    for name, ref in (("input", inputs), ("target", t)):
        out[f"kernel_alignment/{name}"] = linear_cka(means, ref)
        out[f"debiased_cka/{name}"] = debiased_cka(means, ref)
        out[f"rbf_cka/{name}"] = kernel_alignment(rbf(means), rbf(ref))
        out[f"rsa/{name}"] = spearmanr(pdist(means), pdist(ref)).statistic
    out["rsa_kendall/input"] = kendalltau(pdist(means), pdist(inputs)).statistic
    for k in range(targets.shape[1]):
        pos = [c for c in range(len(means)) if targets[c, k] > 0.5]
        out[f"ps/target{k}"] = ps(means, pos)
        out[f"ccgp/target{k}"] = ccgp(x, cond, pos, CLASSIFIER)
        out[f"decodability/target{k}"] = cv_accuracy(x, np.isin(cond, pos).astype(int), folds)
    out["sd"] = float(np.mean([cv_accuracy(x, np.isin(cond, side).astype(int), folds) for side in p["dichotomies"]]))
    c = np.cov(x.T)
    out["participation_ratio"] = float(np.trace(c) ** 2 / np.sum(c * c))
    out["sparsity"] = float((means > 0).mean())
    return {k: float(v) for k, v in out.items()}


problem = json.load(open(sys.argv[1]))
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
CLASSIFIER = {"svm": LinearSVC, "ridge": RidgeClassifier}[sys.argv[3] if len(sys.argv) > 3 else "svm"]
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    values = all_metrics(problem)
    times.append(time.perf_counter() - t0)
print(json.dumps({"seconds": float(np.median(times)), "times": times, "values": values}))
