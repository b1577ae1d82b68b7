"""Every figure of the pipeline, in one module: results in, a matplotlib Figure out.

Each ``*_figure`` function takes a result object (or the tidy table it carries), draws on ``ax`` when
one is given (otherwise on a new figure of the function's default size) and returns the Figure. Nothing
here writes files: the workflow scripts save with :func:`save_figure`, which writes PNG and PDF without
timestamps (byte-identical reruns) and watermarks figures of synthetic data.

One style for all figures: headless Agg backend, the rcParams below.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from crfm.errors import AnalysisError  # noqa: E402

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

__all__ = [
    "plt",
    "save_figure",
    "code_heatmap_figure",
    "saturation_figure",
    "cooccurrence_figure",
    "scree_figure",
    "efa_loadings_figure",
    "interaction_figure",
    "johnson_neyman_figure",
    "power_figure",
]


def _axes(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax, True
    return ax.figure, ax, False


def save_figure(fig, paths, *, synthetic: bool) -> None:
    """Save ``fig`` to each path (.png/.pdf) without timestamps; watermark it when synthetic; close it."""
    matplotlib.rcParams["svg.hashsalt"] = "crfm"
    if synthetic:
        fig.text(0.99, 0.01, "SYNTHETIC DATA", ha="right", va="bottom", fontsize=7, color="0.45", alpha=0.9)
    for p in [paths] if isinstance(paths, (str, Path)) else paths:
        p = Path(p)
        p.parent.mkdir(parents=True, exist_ok=True)
        if p.suffix == ".pdf":
            fig.savefig(p, metadata={"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None})
        elif p.suffix == ".png":
            fig.savefig(p, dpi=150, metadata={"Software": None})
        else:
            fig.savefig(p)
    plt.close(fig)


# --- Study 1: coding --------------------------------------------------------------------------------


def code_heatmap_figure(
    share: pd.DataFrame,
    *,
    labels: dict | None = None,
    title: str = "Share of each company's interviews mentioning the code",
    ax=None,
):
    """Heatmap of :func:`crfm.stats.coding.code_company_share` (values 0..1, annotated)."""
    rows = [labels.get(c, c) if labels else c for c in share.index]
    h = max(2.5, 0.32 * len(rows) + 1.4)
    w = max(4.5, 1.1 * share.shape[1] + 3.5)
    fig, ax, own = _axes(ax, (w, h))
    im = ax.imshow(share.to_numpy(dtype=float), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(share.shape[1]), [str(c) for c in share.columns], rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    for i in range(share.shape[0]):
        for j in range(share.shape[1]):
            v = share.iat[i, j]
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if v > 0.6 else "black")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02, label="share of interviews")
    if own:
        fig.tight_layout()
    return fig


def saturation_figure(result, *, title: str | None = None, ax=None):
    """Cumulative distinct codes (step line) and new codes per interview (bars) of a
    :class:`crfm.stats.coding.SaturationResult`; the saturation point is marked with a vertical line,
    or the plot says no saturation was reached."""
    t = result.table
    fig, ax, own = _axes(ax, (7, 3.8))
    x = t["position"].to_numpy()
    ax.bar(x, t["n_new_codes"], color="0.75", label="new codes in interview")
    ax.step(x, t["cumulative_codes"], where="mid", color="C0", label="cumulative distinct codes")
    ax.plot(x, t["cumulative_codes"], "o", color="C0", markersize=3)
    if result.saturation_position is not None:
        p = result.saturation_position
        ax.axvline(p, color="C3", linestyle="--", linewidth=1)
        ax.annotate(
            f"saturation after {result.saturation_interview}\n(next {result.k} interviews: no new code)",
            xy=(p, t["cumulative_codes"].iloc[p - 1]),
            xytext=(6, -28),
            textcoords="offset points",
            fontsize=7,
            color="C3",
        )
    else:
        ax.text(
            0.98,
            0.05,
            f"no saturation: never {result.k} interviews in a row without a new code",
            transform=ax.transAxes,
            ha="right",
            fontsize=7,
            color="C3",
        )
    ax.set_xlabel("interview (in order conducted)")
    ax.set_ylabel("codes")
    ax.set_xlim(0.4, max(len(t), 1) + 0.6)
    ax.set_title(title or f"Code saturation (k = {result.k})")
    ax.legend(loc="center right", fontsize=7, frameon=False)
    if own:
        fig.tight_layout()
    return fig


def cooccurrence_figure(
    long: pd.DataFrame,
    *,
    labels: dict | None = None,
    method: str = "average",
    title: str = "Code co-occurrence across interviews (Jaccard)",
    ax=None,
):
    """Clustered heatmap of :func:`crfm.stats.coding.cooccurrence_jaccard` (leaf order of
    :func:`crfm.stats.coding.cluster_order`)."""
    from crfm.stats.coding import cluster_order, jaccard_matrix

    if long.empty:
        raise AnalysisError("co-occurrence heatmap needs at least two codes used by the primary coder; fewer were found")
    m = jaccard_matrix(long)
    order = cluster_order(m, method=method)
    m = m.loc[order, order]
    names = [labels.get(c, c) if labels else c for c in order]
    size = max(4.0, 0.34 * len(order) + 2.2)
    fig, ax, own = _axes(ax, (size + 1.0, size))
    im = ax.imshow(m.to_numpy(dtype=float), cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(order)), names, rotation=90)
    ax.set_yticks(range(len(order)), names)
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02, label="Jaccard over interviews")
    if own:
        fig.tight_layout()
    return fig


# --- Study 2: exploratory factor analysis ------------------------------------------------------------


def scree_figure(par, *, ax=None):
    """Observed eigenvalues against the random-data percentile of a
    :class:`crfm.stats.psychometrics.ParallelAnalysisResult`."""
    t = par.table
    fig, ax, own = _axes(ax, (6, 3.6))
    ax.plot(t["position"], t["observed"], "o-", color="C0", label="observed eigenvalues")
    ax.plot(
        t["position"],
        t["simulated_percentile"],
        "s--",
        color="C3",
        ms=4,
        label=f"random data, {par.percentile:g}th percentile ({par.n_sims} simulations)",
    )
    ax.axvline(par.n_factors + 0.5, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("component / factor")
    ax.set_ylabel("eigenvalue")
    ax.set_title(f"Scree plot with parallel analysis ({par.method}): {par.n_factors} factors suggested")
    ax.legend(frameon=False, fontsize=8)
    if own:
        fig.tight_layout()
    return fig


def efa_loadings_figure(loadings: pd.DataFrame, *, ax=None):
    """Heatmap of the EFA pattern loadings (columns F1..Fk, ``item``, ``retained``)."""
    fcols = [c for c in loadings.columns if c.startswith("F") and c[1:].isdigit()]
    m = loadings[fcols].to_numpy(float)
    fig, ax, own = _axes(ax, (1.2 + 0.9 * len(fcols), 0.3 * len(loadings) + 1.2))
    im = ax.imshow(m, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(len(fcols)), fcols)
    labels = [f"{i}{'' if r else ' (removed)'}" for i, r in zip(loadings["item"], loadings["retained"])]
    ax.set_yticks(range(len(loadings)), labels)
    for (r, c), v in np.ndenumerate(m):
        ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if abs(v) > 0.6 else "black")
    ax.set_title("EFA pattern loadings of the item pool")
    fig.colorbar(im, ax=ax, fraction=0.05, label="loading")
    if own:
        fig.tight_layout()
    return fig


# --- Study 3: moderation ------------------------------------------------------------------------------


def interaction_figure(
    result,
    at: dict[str, float] | None = None,
    focal_label: str | None = None,
    moderator_label: str | None = None,
    outcome_label: str | None = None,
    focal_sd_span: float = 1.0,
    *,
    ax=None,
):
    """Predicted outcome of a :class:`crfm.stats.regression.HierarchicalResult` against the focal
    predictor (raw scale, mean +/- ``focal_sd_span`` SD) at the moderator values ``at`` (centred scale;
    default mean and +/-1 SD). Other terms are held at their sample means (dummies at their sample
    proportions)."""
    if result.interaction is None:
        raise AnalysisError("the model has no interaction term to plot")
    fit = result.final_fit
    f, mod, inter = result.focal, result.moderator, result.interaction
    at = at or result.moderator_points()
    base = float(
        sum(
            fit.params[c] * (1.0 if c == "Intercept" else result.design[c].mean())
            for c in fit.params.index
            if c not in (f, mod, inter)
        )
    )
    sx = result.sds[f]
    xc = np.linspace(-focal_sd_span * sx, focal_sd_span * sx, 2)
    fig, ax, own = _axes(ax, (4.5, 3.4))
    styles = ["--", "-", ":", "-."]
    for k, (label, m) in enumerate(at.items()):
        yhat = base + fit.params[f] * xc + fit.params[mod] * m + fit.params[inter] * xc * m
        ax.plot(
            xc + result.means[f],
            yhat,
            styles[k % len(styles)],
            color="0.15",
            label=f"{moderator_label or mod} {label} ({m + result.means[mod]:.2f})",
        )
    ax.set_xlabel(focal_label or f)
    ax.set_ylabel(outcome_label or f"Predicted {result.outcome}")
    ax.legend(frameon=False, fontsize=8)
    if own:
        fig.tight_layout()
    return fig


def johnson_neyman_figure(
    curve: pd.DataFrame,
    jn=None,
    moderator_label: str = "Moderator",
    effect_label: str = "Conditional effect",
    raw_scale: bool = True,
    *,
    ax=None,
):
    """Conditional effect with its CI band across the moderator (from
    :func:`crfm.stats.regression.jn_curve`), the zero line and the Johnson-Neyman bounds of a
    :class:`crfm.stats.regression.JNResult` that fall inside the plotted range."""
    x = curve["moderator_raw" if raw_scale else "moderator"].to_numpy()
    fig, ax, own = _axes(ax, (4.5, 3.4))
    ax.fill_between(
        x, curve["ci_lower"], curve["ci_upper"], color="0.85", label=f"{100 * (1 - (jn.alpha if jn else 0.05)):.0f}% CI"
    )
    ax.plot(x, curve["effect"], color="0.1", label=effect_label)
    ax.axhline(0.0, color="0.4", lw=0.8)
    if jn is not None:
        shift = jn.center if raw_scale else 0.0
        for b in jn.bounds:
            if x.min() <= b + shift <= x.max():
                ax.axvline(b + shift, color="0.3", ls="--", lw=0.9)
                ax.annotate(
                    f"JN {b + shift:.2f}",
                    (b + shift, ax.get_ylim()[1]),
                    fontsize=7,
                    ha="left",
                    va="top",
                    xytext=(2, -2),
                    textcoords="offset points",
                )
    ax.set_xlabel(moderator_label)
    ax.set_ylabel(effect_label)
    ax.legend(frameon=False, fontsize=8)
    if own:
        fig.tight_layout()
    return fig


# --- design analysis ---------------------------------------------------------------------------------


def power_figure(power: pd.DataFrame):
    """Power of H1 and H2 by sample size, one line per population interaction effect, with 95% Monte
    Carlo error bars (the ``design_power`` table)."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4), sharey=True)
    for ax, (h, label) in zip(axes, (("h1", "H1: CRFM -> performance"), ("h2", "H2: CRFM x complexity"))):
        for e, d in power.groupby("interaction", sort=True):
            ax.errorbar(d["n"], d[f"power_{h}"], yerr=1.96 * d[f"mc_se_{h}"], marker="o", capsize=2, label=f"interaction = {e:g}")
        ax.axhline(0.8, color="0.6", lw=0.8, ls="--")
        ax.axhline(0.05, color="0.8", lw=0.8, ls=":")
        ax.set_title(label)
        ax.set_xlabel("sample size (firms)")
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel("power (rejection rate, alpha = .05)")
    axes[1].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
