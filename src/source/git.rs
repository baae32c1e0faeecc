//! Reading blobs from a git object database, with the size cap checked from the object header
//! first so a huge blob is never loaded. Shared by the history and staged sources.

use git2::{ObjectType, Odb, OdbObject, Oid};

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
