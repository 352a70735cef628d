"""Writes the same hidden activity in the activation formats geomstream reads: a Parquet table
(condition, step, one float column per unit), an Arrow IPC file named for its step (condition, activity as
list<float>), a .npy (activity) with conditions.npy, and a .npz (activity, conditions, step).

usage: write_activations.py <folder> <P> <per_condition> <H> [seed]
"""
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

folder, P, per, H = sys.argv[1], *map(int, sys.argv[2:5])
seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
rng = np.random.default_rng(seed)
centers = rng.normal(size=(P, H))
conditions = np.repeat(np.arange(P), per).astype(np.int32)
activity = centers[conditions] + 0.3 * rng.normal(size=(P * per, H))
os.makedirs(folder, exist_ok=True)
for sub in ["parquet", "arrow", "npy", "npz"]:
    os.makedirs(os.path.join(folder, sub), exist_ok=True)
cols = {"condition": conditions, "step": np.full(P * per, 7, np.int64)}
cols.update({f"u{j}": activity[:, j] for j in range(H)})
pq.write_table(pa.table(cols), os.path.join(folder, "parquet", "acts.parquet"))
table = pa.table({"condition": conditions, "activity": pa.array(list(activity), type=pa.list_(pa.float64()))})
with pa.ipc.new_file(os.path.join(folder, "arrow", "acts-7.arrow"), table.schema) as w:
    w.write_table(table)
np.save(os.path.join(folder, "npy", "acts-7.npy"), activity)
np.save(os.path.join(folder, "conditions.npy"), conditions)
np.savez(os.path.join(folder, "npz", "acts.npz"), activity=activity, conditions=conditions, step=np.array(7))
