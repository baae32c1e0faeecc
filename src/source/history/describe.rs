//! Who made what history holds: a commit's author or an annotated tag's tagger, when, and the
//! whole message, read only for what holds findings. Repository text that may hold a key: the
//! caller redacts it before it is shown.

use git2::{Oid, Repository};

/// Who made an item's origin — a commit's author, an annotated tag's tagger — when, and its
/// whole message, as stored: repository text that may hold a key, redacted before it is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    /// Id of the commit or tag object (hex).
    pub id: String,
    /// Author (or tagger) name.
    pub name: String,
    /// Author (or tagger) email.
    pub email: String,
    /// Author (or tagger) date, RFC 3339; empty for a tag without a tagger.
    pub date: String,
    /// The whole message.
    pub message: String,
}

/// The attribution of an item's origin: a commit's author, or an annotated tag's tagger.
pub fn describe(repo: &Repository, origin: Oid) -> Result<Attribution, git2::Error> {
    let object = repo.find_object(origin, None)?;
    if let Some(tag) = object.as_tag() {
        let message = tag.message_bytes().unwrap_or_default();
        return Ok(match tag.tagger() {
            Some(tagger) => origin_of(origin, &tagger, message),
            None => Attribution { id: origin.to_string(), message: lossy(message), ..Attribution::default() },
        });
    }
    let commit = object.peel_to_commit()?;
    let info = origin_of(origin, &commit.author(), commit.message_bytes());
    Ok(info)
}

fn origin_of(id: Oid, person: &git2::Signature, message: &[u8]) -> Attribution {
    let when = person.when();
    Attribution {
        id: id.to_string(),
        name: lossy(person.name_bytes()),
        email: lossy(person.email_bytes()),
        date: rfc3339(when.seconds(), when.offset_minutes()),
        message: lossy(message),
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The first line of a message, trimmed.
pub fn summary(message: &[u8]) -> String {
    let first = message.split(|&b| b == b'\n').next().unwrap_or_default();
    String::from_utf8_lossy(first).trim().to_string()
}

/// Formats a git timestamp (seconds since the epoch, UTC offset in minutes) as RFC 3339 in
/// its own offset: `2024-05-01T12:00:00+02:00`.
pub fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let local = seconds + i64::from(offset_minutes) * 60;
    let (days, secs) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let offset = offset_minutes.unsigned_abs();
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        offset / 60,
        offset % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_as_rfc3339_in_their_offset() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00+00:00");
        assert_eq!(rfc3339(1_714_564_800, 0), "2024-05-01T12:00:00+00:00");
        assert_eq!(rfc3339(1_714_564_800, 120), "2024-05-01T14:00:00+02:00");
        assert_eq!(rfc3339(1_714_564_800, -330), "2024-05-01T06:30:00-05:30");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00+00:00");
        assert_eq!(rfc3339(-1, 0), "1969-12-31T23:59:59+00:00");
    }

    #[test]
    fn summary_is_the_trimmed_first_line() {
        assert_eq!(summary(b"Add client\n\nlong body\n"), "Add client");
        assert_eq!(summary(b""), "");
    }
}
