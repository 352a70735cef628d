"""Reference values from scikit-learn and scipy for the cross-check test.

Reads a JSON problem on stdin:
  {"x": [[...]], "conditions": [...], "folds": [...], "dichotomies": [[...]],
   "ccgp": [{"positive": [...], "held_out": [[a, b], ...]}], "rdm_a": [...], "rdm_b": [...]}
and prints JSON with, for each classifier (LinearSVC() and RidgeClassifier() with their defaults):
the cross-validated accuracy of every dichotomy on the given folds, and the CCGP accuracy of every
held-out pair; and scipy's Spearman rho and Kendall tau-b of the two RDM vectors.
"""
import json
import sys
import warnings

import numpy as np
from scipy.stats import kendalltau, spearmanr
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import RidgeClassifier
from sklearn.svm import LinearSVC

warnings.simplefilter("ignore", ConvergenceWarning)

p = json.load(sys.stdin)
x = np.asarray(p["x"], dtype=float)
cond = np.asarray(p["conditions"])
folds = np.asarray(p["folds"])
models = {"svm": lambda: LinearSVC(), "ridge": lambda: RidgeClassifier()}

out = {"sd": {}, "ccgp": {}}
for name, make in models.items():
    sd = []
    for side in p["dichotomies"]:
        y = np.isin(cond, side).astype(int)
        accs = []
        for f in np.unique(folds):
            tr, te = folds != f, folds == f
            accs.append(make().fit(x[tr], y[tr]).score(x[te], y[te]))
        sd.append(float(np.mean(accs)))
    out["sd"][name] = sd
    cc = []
    for task in p["ccgp"]:
        pos = task["positive"]
        accs = []
        for a, b in task["held_out"]:
            test = np.isin(cond, [a, b])
            y = np.isin(cond, pos).astype(int)
            accs.append(make().fit(x[~test], y[~test]).score(x[test], y[test]))
        cc.append(accs)
    out["ccgp"][name] = cc

out["spearman"] = float(spearmanr(p["rdm_a"], p["rdm_b"]).statistic)
out["kendall_tau_b"] = float(kendalltau(p["rdm_a"], p["rdm_b"]).statistic)
print(json.dumps(out))
