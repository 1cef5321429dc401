"""Search anchor: the same embedding file read by numpy from the documented layout (np.memmap), scored with one
matrix-vector product and np.argpartition, over the same queries as SentenceBench search; prints the same JSON.
  /usr/bin/python3 search_numpy.py STORE [k]"""
import json, struct, sys, time
import numpy as np

path = sys.argv[1]
k = int(sys.argv[2]) if len(sys.argv) > 2 else 10
with open(path, "rb") as f:
    head = f.read(32)
assert head[:8] == b"MLTEMBED", head[:8]
_, dim, count, _, name_len = struct.unpack("<IIQII", head[8:32])
offset = (32 + name_len + 63) // 64 * 64
rows = np.memmap(path, dtype="<f4", mode="r", offset=offset, shape=(count, dim))
queries = np.fromfile(path + ".queries", dtype="<f4").reshape(-1, dim)


def search(q):
    s = rows @ q  # rows are unit vectors: cosine = dot / |q|
    s /= max(np.linalg.norm(q), 1e-8)
    top = np.argpartition(-s, k)[:k]
    return top[np.argsort(-s[top], kind="stable")]


search(queries[0])
times, first = [], None
for q in queries:
    t0 = time.perf_counter()
    hits = search(q)
    times.append((time.perf_counter() - t0) * 1000)
    if first is None:
        first = hits
times.sort()
print(json.dumps({"side": f"numpy {np.__version__} memmap matvec + argpartition", "rows": int(count), "dim": int(dim), "k": k,
                  "queries": len(queries), "median_ms": round(times[len(times) // 2], 2), "p90_ms": round(times[int(len(times) * 0.9)], 2),
                  "min_ms": round(times[0], 2), "top_of_query0": [int(i) for i in first]}))
