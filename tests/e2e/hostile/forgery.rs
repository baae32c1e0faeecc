//! Output cannot be forged: control characters in names, authors and messages are escaped; report locations stay under the scanned root.
