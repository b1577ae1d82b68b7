"""Every figure of the pipeline, in one module: results in, a matplotlib Figure out.

Each ``*_figure`` function takes a result object (or the tidy table it carries), draws on ``ax`` when
one is given (otherwise on a new figure of the function's default size) and returns the Figure. Nothing
here writes files: the workflow scripts save with :func:`save_figure`, which writes PNG and PDF without
timestamps (byte-identical reruns) and watermarks figures of synthetic data.

One style for all figures: headless Agg backend, the rcParams below. Text is never read as mathtext
(``text.parse_math: False``): labels come from the user's codebook and config, and a '$' in them
("$5 to $10") is a dollar sign, not the start of a formula.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from crfm.errors import AnalysisError  # noqa: E402

# One look for every figure: the serif of the documents (STIX, Times-like, shipped with matplotlib, so
# every machine draws the same glyphs), one colour family (blues for magnitudes and lines, red only for
# the contrast of a diverging map or a reference line), Unicode symbols (α, ×, →, −), no mathtext.
SEQUENTIAL = "Blues"  # 0..1: shares, Jaccard similarities
DIVERGING = "RdBu"  # −1..1: loadings (positive blue, negative red)
BLUE, RED, GREY = "#2166ac", "#b2182b", "0.45"

plt.rcParams.update(
    {
        "figure.dpi": 100,
        "font.size": 9,
        "font.family": "serif",
        "font.serif": ["STIXGeneral", "DejaVu Serif"],
        "mathtext.fontset": "stix",
        "axes.unicode_minus": True,
        "pdf.fonttype": 42,
        "axes.prop_cycle": matplotlib.cycler(color=[BLUE, RED, "#4393c3", "#d6604d", "#92c5de", "0.3"]),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "svg.hashsalt": "crfm",
        "pdf.compression": 6,
        "text.parse_math": False,
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
    "user_text",
]


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def user_text(s) -> str:
    """Every text that comes from the user's config or codebook goes through here before matplotlib
    sees it (the one place to make such text safe for matplotlib). Mathtext is off for every text
    (``text.parse_math`` above), so '$' and '\\' are drawn as typed; control characters (refused by the
    data contract and the config check already) are dropped, tab and line break kept."""
    return _CONTROL.sub("", str(s))


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
    rows = [user_text(labels.get(c, c) if labels else c) for c in share.index]
    h = max(2.5, 0.32 * len(rows) + 1.4)
    w = max(4.5, 1.1 * share.shape[1] + 3.5)
    fig, ax, own = _axes(ax, (w, h))
    im = ax.imshow(share.to_numpy(dtype=float), cmap=SEQUENTIAL, vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(share.shape[1]), [user_text(c) for c in share.columns], rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    for i in range(share.shape[0]):
        for j in range(share.shape[1]):
            v = share.iat[i, j]
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if v > 0.6 else "black")
    ax.set_xlabel("Company")
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02, label="Share of the company's interviews (0–1)")
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
    ax.bar(x, t["n_new_codes"], color="#c6dbef", label="New codes in the interview")
    ax.step(x, t["cumulative_codes"], where="mid", color=BLUE, label="Cumulative distinct codes")
    ax.plot(x, t["cumulative_codes"], "o", color=BLUE, markersize=3)
    if result.saturation_position is not None:
        p = result.saturation_position
        ax.axvline(p, color=RED, linestyle="--", linewidth=1)
        ax.annotate(
            f"Saturation after {user_text(result.saturation_interview)}\n(next {result.k} interviews: no new code)",
            xy=(p, t["cumulative_codes"].iloc[p - 1]),
            xytext=(6, -28),
            textcoords="offset points",
            fontsize=7,
            color=RED,
        )
    else:
        ax.text(
            0.98,
            0.05,
            f"no saturation: never {result.k} interviews in a row without a new code",
            transform=ax.transAxes,
            ha="right",
            fontsize=7,
            color=RED,
        )
    ax.set_xlabel("Interview (position in data-collection order)")
    ax.set_ylabel("Number of codes")
    ax.set_xlim(0.4, max(len(t), 1) + 0.6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        ax.set_title(user_text(title))
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
        raise AnalysisError(
            "co-occurrence heatmap needs at least two codes used by the primary coder; fewer were found"
        )
    m = jaccard_matrix(long)
    order = cluster_order(m, method=method)
    m = m.loc[order, order]
    names = [user_text(labels.get(c, c) if labels else c) for c in order]
    size = max(4.0, 0.34 * len(order) + 2.2)
    fig, ax, own = _axes(ax, (size + 1.0, size))
    im = ax.imshow(m.to_numpy(dtype=float), cmap=SEQUENTIAL, vmin=0, vmax=1)
    ax.set_xticks(range(len(order)), names, rotation=90)
    ax.set_yticks(range(len(order)), names)
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02, label="Jaccard similarity over interviews (0–1)")
    if own:
        fig.tight_layout()
    return fig


# --- Study 2: exploratory factor analysis ------------------------------------------------------------


def scree_figure(par, *, ax=None):
    """Observed eigenvalues against the random-data percentile of a
    :class:`crfm.stats.psychometrics.ParallelAnalysisResult`."""
    t = par.table
    fig, ax, own = _axes(ax, (6, 3.6))
    ax.plot(t["position"], t["observed"], "o-", color=BLUE, label="Observed eigenvalues")
    ax.plot(
        t["position"],
        t["simulated_percentile"],
        "s--",
        color=RED,
        ms=4,
        label=f"Random data, {par.percentile:g}th percentile ({par.n_sims} simulations)",
    )
    ax.axvline(par.n_factors + 0.5, color=GREY, lw=0.8, ls=":")
    ax.annotate(f"{par.n_factors} retained", (par.n_factors + 0.5, ax.get_ylim()[1]), xytext=(3, -3),
                textcoords="offset points", fontsize=7, va="top", color=GREY)  # fmt: skip
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(0.5, len(t) + 0.5)
    ax.set_xlabel("Component number")
    ax.set_ylabel("Eigenvalue")
    ax.legend(frameon=False, fontsize=8)
    if own:
        fig.tight_layout()
    return fig


def efa_loadings_figure(loadings: pd.DataFrame, *, ax=None):
    """Heatmap of the EFA pattern loadings (columns F1..Fk, ``item``, ``retained``)."""
    fcols = [c for c in loadings.columns if c.startswith("F") and c[1:].isdigit()]
    m = loadings[fcols].to_numpy(float)
    fig, ax, own = _axes(ax, (1.2 + 0.9 * len(fcols), 0.3 * len(loadings) + 1.2))
    im = ax.imshow(m, cmap=DIVERGING, vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(len(fcols)), fcols)
    ax.set_xlabel("Factor")
    labels = [user_text(f"{i}{'' if r else ' (removed)'}") for i, r in zip(loadings["item"], loadings["retained"])]
    ax.set_yticks(range(len(loadings)), labels)
    for (r, c), v in np.ndenumerate(m):
        ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if abs(v) > 0.6 else "black")
    fig.colorbar(im, ax=ax, fraction=0.05, label="Pattern loading (−1 to 1)")
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
    shades = ["#92c5de", BLUE, "#08306b", "0.3"]
    for k, (label, m) in enumerate(at.items()):
        yhat = base + fit.params[f] * xc + fit.params[mod] * m + fit.params[inter] * xc * m
        ax.plot(
            xc + result.means[f],
            yhat,
            styles[k % len(styles)],
            color=shades[k % len(shades)],
            label=user_text(moderator_label or mod) + f" {label} ({m + result.means[mod]:.2f})".replace("-", "\u2212"),
        )
    ax.set_xlabel(user_text(focal_label or f))
    ax.set_ylabel(user_text(outcome_label or f"Predicted {result.outcome}"))
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
    observed=None,
    ax=None,
):
    """Conditional effect with its CI band across the moderator (from
    :func:`crfm.stats.regression.jn_curve`), the zero line, the Johnson-Neyman bounds of a
    :class:`crfm.stats.regression.JNResult` that fall inside the plotted range, and a rug of the
    ``observed`` moderator values (same scale as the curve), so a reader sees where the data are."""
    x = curve["moderator_raw" if raw_scale else "moderator"].to_numpy()
    fig, ax, own = _axes(ax, (4.5, 3.4))
    ax.fill_between(
        x,
        curve["ci_lower"],
        curve["ci_upper"],
        color="#c6dbef",
        label=f"{100 * (1 - (jn.alpha if jn else 0.05)):.0f}% CI",
    )
    ax.plot(x, curve["effect"], color=BLUE, label="Conditional effect")
    ax.axhline(0.0, color=GREY, lw=0.8)
    if observed is not None:
        obs = np.asarray(pd.Series(observed).dropna(), dtype=float)
        ax.plot(
            obs,
            np.zeros_like(obs),
            "|",
            color="0.2",
            ms=6,
            alpha=0.35,
            transform=ax.get_xaxis_transform(),
            label="Observed values",
        )
    if jn is not None:
        shift = jn.center if raw_scale else 0.0
        for b in jn.bounds:
            if x.min() <= b + shift <= x.max():
                ax.axvline(b + shift, color=RED, ls="--", lw=0.9)
                ax.annotate(
                    f"JN bound {b + shift:.2f}".replace("-", "−"),
                    (b + shift, ax.get_ylim()[1]),
                    fontsize=7,
                    ha="left",
                    va="top",
                    xytext=(2, -2),
                    textcoords="offset points",
                    color=RED,
                )
    ax.set_xlabel(user_text(moderator_label))
    ax.set_ylabel(user_text(effect_label))
    ax.legend(frameon=False, fontsize=8)
    if own:
        fig.tight_layout()
    return fig


# --- design analysis ---------------------------------------------------------------------------------


def power_figure(power: pd.DataFrame):
    """Power of H1 and H2 by sample size, one line per population interaction effect, with 95% Monte
    Carlo error bars (the ``design_power`` table)."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4), sharey=True)
    for ax, (h, label) in zip(axes, (("h1", "H1: CRFM → performance"), ("h2", "H2: CRFM × Complexity"))):
        for e, d in power.groupby("interaction", sort=True):
            ax.errorbar(
                d["n"],
                d[f"power_{h}"],
                yerr=1.96 * d[f"mc_se_{h}"],
                marker="o",
                capsize=2,
                label=f"Interaction = {e:g}",
            )
        ax.axhline(0.8, color=GREY, lw=0.8, ls="--")
        ax.axhline(0.05, color="0.75", lw=0.8, ls=":")
        ax.set_title(label)
        ax.set_xlabel("Sample size (firms)")
        ax.set_ylim(0, 1.02)
        ax.set_xticks(sorted(power["n"].unique()))
    axes[0].set_ylabel("Power (rejection rate at α = .05)")
    axes[1].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig
