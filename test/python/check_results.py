"""Read a geomstream results folder with pyarrow, polars, pandas and duckdb, and print what each sees.

Usage: python3 check_results.py <results-dir>
Prints one JSON object: for each reader, the metrics row count, the sum of `value`, the column names
and dtypes, the runs row count and statuses, and the Arrow IPC stream's row count (pyarrow).
"""
import json
import sys
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.dataset as ds
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

d = Path(sys.argv[1])
out = {}

metrics = ds.dataset(d / "metrics", format="parquet").to_table()
runs = pq.read_table(d / "runs.parquet")
out["pyarrow"] = {
    "metric_rows": metrics.num_rows,
    "value_sum": float(metrics.column("value").to_numpy().sum()),
    "columns": metrics.column_names,
    "types": {f.name: str(f.type) for f in metrics.schema},
    "runs": runs.num_rows,
    "statuses": sorted(set(runs.column("status").to_pylist())),
    "kernel_alignment_rows": int(metrics.filter(ds.field("metric") == "kernel_alignment").num_rows),
}
arrows = d / "metrics.arrows"
if arrows.exists():
    with open(arrows, "rb") as f:
        out["pyarrow"]["arrow_stream_rows"] = ipc.open_stream(f).read_all().num_rows

pm = pl.read_parquet(str(d / "metrics" / "*.parquet"))
pr = pl.read_parquet(d / "runs.parquet")
out["polars"] = {
    "metric_rows": pm.height,
    "value_sum": float(pm["value"].sum()),
    "columns": pm.columns,
    "runs": pr.height,
    "statuses": sorted(set(pr["status"].to_list())),
    "kernel_alignment_rows": pm.filter(pl.col("metric") == "kernel_alignment").height,
}

dm = pd.read_parquet(d / "metrics")
dr = pd.read_parquet(d / "runs.parquet")
out["pandas"] = {
    "metric_rows": len(dm),
    "value_sum": float(dm["value"].sum()),
    "columns": list(dm.columns),
    "runs": len(dr),
    "statuses": sorted(set(dr["status"])),
    "kernel_alignment_rows": int((dm["metric"] == "kernel_alignment").sum()),
}

con = duckdb.connect()
glob = str(d / "metrics" / "*.parquet")
n, s, ka = con.execute(
    f"SELECT count(*), sum(value), count(*) FILTER (WHERE metric = 'kernel_alignment') FROM read_parquet('{glob}')"
).fetchone()
cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{glob}')").fetchall()]
rn, statuses = con.execute(f"SELECT count(*), list(DISTINCT status ORDER BY status) FROM read_parquet('{d / 'runs.parquet'}')").fetchone()
out["duckdb"] = {"metric_rows": n, "value_sum": float(s), "columns": cols, "runs": rn, "statuses": statuses, "kernel_alignment_rows": ka}

print(json.dumps(out))
