"""crfm.data: the data layer (above crfm.stats): the configuration and its schema checks, the raw-data
contract and exclusion rules, the manifest and synthetic labels, REFI-QDA (.qdpx) reading, the tidy
table format every output uses, and the synthetic-data generator (on top, used by tests and the
benchmark). Imports only crfm.stats and crfm.errors."""
