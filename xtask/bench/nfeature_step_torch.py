"""The paper's own training step, in torch, timed: the baseline of `cargo xtask bench --train`.

usage: python3 nfeature_step_torch.py N M INSTANCES DTYPE [REPS]   (DTYPE float32 or float64)

Written as the paper's code trains the collisions experiment (github
tmychow/accidental-polysemanticity, models/autoencoder.py and experiments/collisions.py): a
module with W of shape (instances, n, m), the identity batch, hidden = x W,
output = relu(hidden W^T), loss = mse_loss(output, x, reduction='sum') + l1 * |W|.sum(),
autograd, torch.optim.AdamW(lr=1e-3) with its defaults (weight decay 0.01). No noise. Times REPS
steps after two warm-up steps with torch's default thread count and prints one JSON line.
Exits 3 when torch is not installed, so the caller can say so.
"""
import json
import sys
import time

try:
    import torch
except ImportError:
    print("torch is not installed", file=sys.stderr)
    sys.exit(3)


def main():
    n, m, inst = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    dtype = getattr(torch, sys.argv[4])
    reps = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    torch.manual_seed(0)
    W = torch.nn.Parameter(torch.randn(inst, n, m, dtype=dtype) / m ** 0.5)
    x = torch.eye(n, dtype=dtype).expand(inst, n, n)
    opt = torch.optim.AdamW([W], lr=1e-3)
    l1 = 1e-3

    def step():
        opt.zero_grad()
        hidden = torch.bmm(x, W)
        out = torch.relu(torch.bmm(hidden, W.transpose(1, 2)))
        loss = torch.nn.functional.mse_loss(out, x, reduction="sum") + l1 * W.abs().sum()
        loss.backward()
        opt.step()

    for _ in range(2):
        step()
    t0 = time.perf_counter()
    for _ in range(reps):
        step()
    sec = (time.perf_counter() - t0) / reps
    print(json.dumps({"impl": "torch", "n": n, "m": m, "instances": inst, "dtype": str(dtype),
                      "seconds_per_step": sec, "reps": reps, "torch": torch.__version__,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
