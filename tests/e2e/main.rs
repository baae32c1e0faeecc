//! End-to-end tests: the real binary on temporary trees and git repositories.

mod ci;
mod harness;
mod rules;
mod scan;
