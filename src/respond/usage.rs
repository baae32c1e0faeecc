//! Step 2, usage since the leak: the organization's Usage API asked for one key's
//! completions usage, a bucket per day from the day it leaked (or, when that is unknown, the
//! day it was created), grouped by key. Only the admin key is sent.

use serde::Serialize;
use serde_json::Value;

use super::api::{encode, Api};
use crate::verify::options::BaseUrl;

const DAY: i64 = 86_400;

/// A key's usage since a day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Usage {
    /// The first day counted (Unix seconds, midnight UTC).
    pub since: i64,
    /// Days with at least one request.
    pub days_used: usize,
    /// Requests in all.
    pub requests: u64,
    /// Input and output tokens in all.
    pub tokens: u64,
    /// The last day with a request (Unix seconds, midnight UTC).
    pub last_day: Option<i64>,
}

/// Asks for `key_id`'s completions usage from the day holding `since` on.
pub(crate) fn fetch(api: &Api, base: &BaseUrl, admin_key: &str, key_id: &str, since: i64) -> Result<Usage, String> {
    let day = since.div_euclid(DAY) * DAY;
    let path = format!(
        "/v1/organization/usage/completions?start_time={day}&bucket_width=1d&limit=31&group_by=api_key_id&api_key_ids={}",
        encode(key_id)
    );
    let pages = api.pages(base, &path, admin_key)?;
    Ok(aggregate(&pages, key_id, day))
}

/// Sums the buckets of `pages` (`data[].results[]`) for `key_id`: a result of another key
/// is not counted, one without a key id is (the query asked for this key alone).
pub(crate) fn aggregate(pages: &[Value], key_id: &str, since: i64) -> Usage {
    let mut usage = Usage { since, ..Usage::default() };
    let buckets = pages.iter().filter_map(|page| page["data"].as_array()).flatten();
    for bucket in buckets {
        let results = bucket["results"].as_array().map(Vec::as_slice).unwrap_or_default();
        let ours = results.iter().filter(|result| result["api_key_id"].as_str().is_none_or(|id| id == key_id));
        let (requests, tokens) = ours.fold((0u64, 0u64), |(requests, tokens), result| {
            let count = |name: &str| result[name].as_u64().unwrap_or(0);
            (requests + count("num_model_requests"), tokens + count("input_tokens") + count("output_tokens"))
        });
        if requests > 0 {
            usage.days_used += 1;
            usage.requests += requests;
            usage.tokens += tokens;
            let day = bucket["start_time"].as_i64();
            usage.last_day = usage.last_day.max(day);
        }
    }
    usage
}

/// Unix seconds of an RFC 3339 time (`2024-05-01T12:00:00+02:00`, as history findings carry
/// their commit's date), `None` when it is not one.
pub(crate) fn parse_rfc3339(text: &str) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let zone = text.get(19..)?;
    let offset = match zone {
        "Z" => 0,
        _ => {
            let sign = match zone.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            sign * (number(20..22)? * 3600 + number(23..25)? * 60)
        }
    };
    Some(days_from_civil(year, month, day) * DAY + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01 of a date in the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The UTC day of `seconds`: `2024-05-01`.
pub(crate) fn day(seconds: i64) -> String {
    crate::source::history::rfc3339(seconds, 0)[..10].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bucket(start: i64, results: Value) -> Value {
        json!({"object": "bucket", "start_time": start, "end_time": start + DAY, "results": results})
    }

    #[test]
    fn usage_counts_days_requests_and_tokens_of_this_key_over_every_page() {
        let result = |key: &str, requests: u64| {
            json!({"object": "organization.usage.completions.result", "api_key_id": key,
                   "num_model_requests": requests, "input_tokens": 10 * requests, "output_tokens": requests})
        };
        let first = json!({"object": "page", "has_more": true, "next_page": "p2", "data": [
            bucket(0, json!([result("key_1", 2)])),
            bucket(DAY, json!([])),
            bucket(2 * DAY, json!([result("key_2", 7)])),
        ]});
        let second = json!({"object": "page", "has_more": false, "data": [
            bucket(3 * DAY, json!([result("key_1", 1), result("key_2", 5)])),
            bucket(4 * DAY, json!([{"num_model_requests": 0, "input_tokens": 0}])),
        ]});
        let usage = aggregate(&[first, second], "key_1", 0);
        assert_eq!(usage, Usage { since: 0, days_used: 2, requests: 3, tokens: 33, last_day: Some(3 * DAY) });
        assert_eq!(aggregate(&[], "key_1", DAY), Usage { since: DAY, ..Usage::default() });
    }

    #[test]
    fn commit_dates_are_read_with_their_offset() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00+00:00"), Some(0));
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00+00:00"), Some(1_714_564_800));
        assert_eq!(parse_rfc3339("2024-05-01T14:00:00+02:00"), Some(1_714_564_800));
        assert_eq!(parse_rfc3339("2024-05-01T07:30:00-04:30"), Some(1_714_564_800));
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00Z"), Some(1_714_564_800));
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(day(1_714_564_800), "2024-05-01");
    }
}
