"""Matplotlib set-up shared by every figure: headless backend, fixed style."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update(
    {
        "figure.dpi": 100,
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.hashsalt": "crfm",
        "pdf.compression": 6,
    }
)

__all__ = ["plt"]
