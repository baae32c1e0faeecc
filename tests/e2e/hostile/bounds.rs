//! Bounded on every input: deep trees, many findings per file, huge sizes, thread failures.
