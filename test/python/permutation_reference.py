"""scikit-learn's permutation_test_score for the cross-check of geomstream's label-shuffle null of
decodability (test/crosscheck-null.test.ts).

Reads a JSON problem on stdin:
  {"x": [[...]], "conditions": [...], "folds": [...], "labels": [[...], ...],
   "permutations": n, "seed": s}
x: samples (rows); conditions: the condition of each row (0..P-1); folds: geomstream's
cross-validation fold of each row for the observed labels; labels: for each target, its 0/1 label
per condition. Prints JSON: for each target, the observed score, the null draws' mean and sd
(ddof = 1) and the p-value (1 + #{null >= score}) / (1 + n), with RidgeClassifier() (the classifier
geomstream reproduces exactly).

What geomstream's null does, and how this matches it: it permutes the samples' condition labels
(so each sample's target label is that of its new condition) and cross-validates again on folds
stratified by the permuted conditions. Here y is the condition itself, a wrapper maps it to the
target label before fitting and scoring, so permutation_test_score's shuffle of y is that
permutation; the splitter gives geomstream's own folds for the observed conditions (the same score)
and, for each permutation, StratifiedKFold(shuffle=True) folds of the permuted conditions, the same
rule (each condition's samples dealt evenly to the folds, at random). The permutations themselves
come from numpy and cannot be geomstream's: only their distribution is compared.
"""
import json
import sys

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import StratifiedKFold, permutation_test_score


class ConditionToLabel(ClassifierMixin, BaseEstimator):
    """`estimator` fitted and scored on labels[y] for condition labels y."""

    def __init__(self, estimator=None, labels=()):
        self.estimator = estimator
        self.labels = labels

    def fit(self, X, y):
        self.estimator_ = clone(self.estimator).fit(X, np.asarray(self.labels)[y])
        self.classes_ = np.unique(y)
        return self

    def score(self, X, y, sample_weight=None):
        return self.estimator_.score(X, np.asarray(self.labels)[y])


class GeomstreamFolds:
    """geomstream's folds for the observed conditions; stratified random folds of any permutation."""

    def __init__(self, conditions, folds, seed):
        self.conditions = np.asarray(conditions)
        self.folds = np.asarray(folds)
        self.n = int(self.folds.max()) + 1
        self.rng = np.random.RandomState(seed)

    def get_n_splits(self, X=None, y=None, groups=None):
        return self.n

    def split(self, X, y, groups=None):
        if np.array_equal(y, self.conditions):
            for f in range(self.n):
                yield np.flatnonzero(self.folds != f), np.flatnonzero(self.folds == f)
        else:
            yield from StratifiedKFold(self.n, shuffle=True, random_state=self.rng).split(X, y)


p = json.load(sys.stdin)
x = np.asarray(p["x"], dtype=float)
cond = np.asarray(p["conditions"])
out = []
for labels in p["labels"]:
    score, null, pvalue = permutation_test_score(
        ConditionToLabel(RidgeClassifier(), tuple(labels)),
        x,
        cond,
        cv=GeomstreamFolds(cond, p["folds"], p["seed"]),
        n_permutations=p["permutations"],
        random_state=p["seed"],
    )
    out.append(
        {
            "value": float(score),
            "null_mean": float(np.mean(null)),
            "null_sd": float(np.std(null, ddof=1)),
            "p_value": float(pvalue),
        }
    )
print(json.dumps(out))
