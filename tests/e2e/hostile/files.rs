//! Files the repository controls (config, ignore files, baselines, rule paths, git config) are read safely and never echoed.
