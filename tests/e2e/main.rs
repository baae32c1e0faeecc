//! End-to-end tests: the real binary on temporary trees and git repositories.

mod harness;
mod scan;
