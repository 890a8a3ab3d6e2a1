"""Draws bench/results/results.png from results.json (run by bench/run.py
with the bench's own environment, which has matplotlib).

    python bench/chart.py results.json results.png
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    summary = json.load(open(sys.argv[1]))["summary"]
    workloads = [wl for wl in summary if any(s.get("vs_raw") for s in summary[wl].values())]
    fig, axes = plt.subplots(len(workloads), 1, figsize=(9, 2.3 * len(workloads)), squeeze=False)
    for ax, wl in zip(axes[:, 0], workloads, strict=True):
        items = sorted(((p, s["vs_raw"]) for p, s in summary[wl].items() if s.get("vs_raw")), key=lambda x: x[1])
        names = [p for p, _ in items]
        values = [v for _, v in items]
        colors = [
            "tab:red" if p in ("ours", "ours-send-many") else "tab:orange" if p == "ours-pure" else "tab:gray" if p.startswith("raw-") else "tab:blue"
            for p in names
        ]
        ax.barh(names, values, color=colors)
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_title(f"{wl}: throughput relative to the raw socket (median of runs)", fontsize=9)
        ax.tick_params(labelsize=8)
        for y, v in enumerate(values):
            ax.text(v, y, f" {v:.2f}", va="center", fontsize=7)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=110)


if __name__ == "__main__":
    main()
