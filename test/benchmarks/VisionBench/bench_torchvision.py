#!/usr/bin/python3
"""PyTorch eager anchor: torchvision resnet50 / swin_t with the very weights of artifacts/vision-full (rebuilt by
make_vision_fixtures' seeded init, checked against the checkpoint), same thread count, median ms of eval forwards.
  /usr/bin/python3 bench_torchvision.py --threads 2 --runs 10 [--batches 1,8]"""
import argparse, json, os, sys, time
import torch
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "scripts"))
import make_vision_fixtures as v  # noqa: E402
import make_model_fixtures as fx  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--runs", type=int, default=10)
ap.add_argument("--warmup", type=int, default=3)
ap.add_argument("--batches", default="1,8")
ap.add_argument("--full", default=os.path.join(fx.REPO, "artifacts", "vision-full"))
a = ap.parse_args()
torch.set_num_threads(a.threads)
for seed, (name, model, config, mapper, kind) in enumerate(v.build_models(224, True)):
    if name not in ("resnet50", "swin_t"):
        continue
    torch.manual_seed(seed)
    v.randomize(model, 100 + seed)
    saved, _ = fx.read_safetensors(os.path.join(a.full, name, "model.safetensors"))
    mapped = mapper(model.state_dict())
    assert all(torch.equal(saved[k], mapped[k]) for k in mapped), f"{name}: weights differ from the checkpoint"
    for b in [int(x) for x in a.batches.split(",")]:
        x = torch.randn(b, 3, 224, 224)
        times = []
        with torch.no_grad():
            for r in range(a.warmup + a.runs):
                t = time.perf_counter()
                model(x)
                if r >= a.warmup:
                    times.append((time.perf_counter() - t) * 1000)
        times.sort()
        print(json.dumps({"model": name, "engine": "pytorch-eager", "batch": b, "median_ms": round(times[len(times) // 2], 1)}), flush=True)
