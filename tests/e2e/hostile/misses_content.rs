//! No silent miss inside content: archives stopped by a limit, UTF-16 without a byte-order mark, percent-encoding, missing branch tips.
