"""Wayline's quickstart: train a small model three ways, log each run, then list them with the CLI.

Everything goes to the embedded store (``./wayline-data`` unless WAYLINE_TRACKING_URI says otherwise): no
server, no services. Run it with ``make run`` or ``python examples/quickstart.py``.
"""

from __future__ import annotations

import random
import subprocess
import sys

import wayline


def make_data(n: int, seed: int) -> list[tuple[float, float]]:
    """Points on y = 3x + 2 with noise."""
    rng = random.Random(seed)
    return [(x, 3.0 * x + 2.0 + rng.gauss(0, 0.3)) for x in (rng.uniform(-1, 1) for _ in range(n))]


def train(data: list[tuple[float, float]], lr: float, epochs: int) -> tuple[float, float]:
    """Fit y = w x + b by gradient descent, logging the loss each epoch."""
    w = b = 0.0
    n = len(data)
    for epoch in range(epochs):
        grad_w = sum(2 * (w * x + b - y) * x for x, y in data) / n
        grad_b = sum(2 * (w * x + b - y) for x, y in data) / n
        w -= lr * grad_w
        b -= lr * grad_b
        loss = sum((w * x + b - y) ** 2 for x, y in data) / n
        wayline.log_metric("loss", loss, step=epoch)
    return w, b


def main() -> None:
    wayline.set_experiment("quickstart")
    data = make_data(200, seed=7)
    holdout = make_data(50, seed=8)
    for lr in (0.01, 0.05, 0.2):
        with wayline.start_run(run_name=f"linear-lr-{lr}"):
            wayline.log_params({"lr": lr, "epochs": 60, "model": "linear"})
            wayline.log_input(
                wayline.data.dataset("synthetic-line", source="examples/quickstart.py#make_data"),
                context="training",
            )
            w, b = train(data, lr, epochs=60)
            rmse = (sum((w * x + b - y) ** 2 for x, y in holdout) / len(holdout)) ** 0.5
            wayline.log_metrics({"holdout_rmse": rmse, "w": w, "b": b})
            wayline.log_dict({"w": w, "b": b}, "model/coefficients.json")
    print(f"Logged 3 runs to {wayline.get_tracking_uri()}\n")
    cli = [sys.executable, "-m", "wayline"]
    subprocess.run(
        [*cli, "runs", "list", "--experiment", "quickstart", "--order-by", "metrics.holdout_rmse ASC"],
        check=True,
    )


if __name__ == "__main__":
    main()
