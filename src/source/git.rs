//! Reading blobs from a git object database, with the size cap checked from the object header
//! first so a huge blob is never loaded. Shared by the history and staged sources. Also the
//! one libgit2 setting that lets them read repositories another user owns.

use git2::{ObjectType, Odb, OdbObject, Oid};

/// Lets libgit2 open repositories owned by another user, as a repository mounted into a
/// container is. libgit2 refuses them by default ("not owned by current user").
///
/// That check (git's `safe.directory`) exists because git runs programs a repository's
/// configuration names — hooks, `core.fsmonitor`, filters, pagers — so another user who owns
/// the repository could make you run theirs. keyhound's use of libgit2 runs none: it reads
/// objects, the index and ignore rules, and executes nothing, so for reading the check
/// protects nothing and only stops the scan.
///
/// # Safety
///
/// The setting is a libgit2 global written without synchronisation: call this before any
/// other thread exists and before any other use of libgit2.
pub unsafe fn allow_repositories_of_other_owners() -> Result<(), git2::Error> {
    // SAFETY: the caller's contract is this function's.
    unsafe { git2::opts::set_verify_owner_validation(false) }
}

/// A blob read for scanning, or why it was not.
pub enum BlobRead<'o> {
    /// Its contents.
    Read(OdbObject<'o>),
    /// Larger than the limit: not read.
    TooLarge(u64),
}

/// Reads blob `id` unless its header says it is larger than `limit`.
pub fn read_blob<'o>(odb: &'o Odb<'_>, id: Oid, limit: u64) -> Result<BlobRead<'o>, git2::Error> {
    let (size, kind) = odb.read_header(id)?;
    if kind != ObjectType::Blob {
        return Err(git2::Error::from_str(&format!("is a {kind}, not a blob")));
    }
    if size as u64 > limit {
        return Ok(BlobRead::TooLarge(size as u64));
    }
    odb.read(id).map(BlobRead::Read)
}
