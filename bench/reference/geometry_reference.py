"""The geometry functions both Python references use (numpy): linear and debiased CKA
(Kornblith et al. 2019; Song et al. 2012's unbiased HSIC) and the parallelism score over every
pairing and CCGP (Bernardi et al. 2020). Imported by metrics_reference.py and ingest_reference.py.
"""
import itertools

import numpy as np


def linear_cka(x, y):
    x = x - x.mean(0)
    y = y - y.mean(0)
    return np.linalg.norm(y.T @ x) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))


def center_unbiased(g):
    n = g.shape[0]
    g = g.copy()
    np.fill_diagonal(g, 0)
    means = g.sum(0) / (n - 2)
    means -= means.sum() / (2 * (n - 1))
    g -= means[:, None]
    g -= means[None, :]
    np.fill_diagonal(g, 0)
    return g


def debiased_cka(x, y):
    x = x - x.mean(0)
    y = y - y.mean(0)
    a, b = center_unbiased(x @ x.T), center_unbiased(y @ y.T)
    return (a.ravel() @ b.ravel()) / (np.linalg.norm(a) * np.linalg.norm(b))


def ps(means, pos):
    neg = [c for c in range(len(means)) if c not in pos]
    best = -np.inf
    for perm in itertools.permutations(neg):
        v = means[pos] - means[list(perm)]
        v = v / np.linalg.norm(v, axis=1, keepdims=True)
        c = v @ v.T
        best = max(best, c[np.triu_indices(len(pos), 1)].mean())
    return best


def ccgp(x, cond, pos, classifier):
    """CCGP, Bernardi et al.'s scheme: hold out one condition of each side, train the classifier
    (a scikit-learn class) on the others, test on the held-out pair; mean over every pair."""
    neg = [c for c in np.unique(cond) if c not in pos]
    y = np.isin(cond, pos).astype(int)
    accs = []
    for a in pos:
        for b in neg:
            test = np.isin(cond, [a, b])
            accs.append(classifier().fit(x[~test], y[~test]).score(x[test], y[test]))
    return float(np.mean(accs))
