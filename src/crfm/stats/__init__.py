"""Paper-agnostic statistics: arrays and DataFrames in, result dataclasses out.

Nothing in this layer reads the configuration, touches files or draws figures; it imports only numpy,
scipy, pandas, statsmodels (and the maintained libraries named in each module) and ``crfm.errors``.
"""
