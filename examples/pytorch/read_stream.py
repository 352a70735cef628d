"""Read geomstream's metric rows live: `geomstream analyze ... --stream - | python3 read_stream.py`."""
import sys

import pyarrow.ipc as ipc

for batch in ipc.open_stream(sys.stdin.buffer):
    for row in batch.to_pylist():
        if row["metric"] == "kernel_alignment":
            print(row["step"], row["against"], round(row["value"], 4), flush=True)
