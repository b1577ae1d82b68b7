#!/usr/bin/env bash
# Install what tests/test_slurm.py's real-SLURM test needs (Debian 12, as root, no systemd):
# slurm-wlm 22.05 (slurmctld, slurmd, clients), slurmdbd + mariadb-server (the test runs the workflow
# with job accounting, status by sacct, and without, status by squeue) and munge, all
# --no-install-recommends. Does nothing if they are installed. The test's tests/slurm/setup_cluster.sh
# would install them itself; running this first makes a package failure a CI step of its own. About
# 30 s from scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash tests/slurm/setup_cluster.sh --install-only
