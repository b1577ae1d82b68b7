"""crfm: the statistics and I/O library behind crfm-pipeline.

Pure functions, no Snakemake import. The workflow scripts under workflow/scripts are thin wrappers
that read inputs, call this library and write outputs.
"""

__version__ = "0.1.0"
