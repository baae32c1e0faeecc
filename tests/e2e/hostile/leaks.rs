//! No secret in any output, including commit metadata and verification details.
