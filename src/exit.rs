//! Exit codes: part of the interface that CI scripts and hooks depend on.

/// How keyhound exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// No secrets found, everything scanned.
    Clean = 0,
    /// Secrets found.
    Findings = 1,
    /// An error: bad arguments, missing path, invalid rules or config, or an incomplete scan.
    Error = 2,
}

impl ExitStatus {
    /// The status of a finished scan: an incomplete scan is an error even with findings.
    pub fn of_scan(findings: usize, incomplete: bool) -> Self {
        if incomplete {
            ExitStatus::Error
        } else if findings > 0 {
            ExitStatus::Findings
        } else {
            ExitStatus::Clean
        }
    }

    /// The process exit code.
    pub fn code(self) -> i32 {
        self as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_scans_are_errors() {
        assert_eq!(ExitStatus::of_scan(0, false), ExitStatus::Clean);
        assert_eq!(ExitStatus::of_scan(3, false), ExitStatus::Findings);
        assert_eq!(ExitStatus::of_scan(3, true), ExitStatus::Error);
        assert_eq!(ExitStatus::Error.code(), 2);
    }
}
