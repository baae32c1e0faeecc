//! The calls `keyhound respond` makes, over the `--verify` transport ([`crate::verify`]'s
//! client, per-host limits and backoff): a fixed HTTPS host unless overridden by an https://
//! or loopback http:// base URL, no redirects, a timeout per request, proxies honoured, and
//! 408, 429 (with `Retry-After`), 5xx and transient transport failures retried with backoff.
//!
//! Answers are reduced to their status and JSON body; a provider's text is never shown, so
//! neither the admin key nor a found key can reach an output through an error message.

use serde_json::Value;

use crate::verify::limit::HostLimits;
use crate::verify::options::BaseUrl;
use crate::verify::probe::{Answer, Call, Client, Method};
use crate::verify::{retrying, Attempt, VerifyOptions};

/// Most pages read from one listing: 100 pages of 100 entries, or about five years of daily
/// usage buckets; past it the listing is reported as too long rather than read forever.
const MAX_PAGES: usize = 100;

/// The HTTP side of `respond`: one client, shared limits, the retry policy.
pub(crate) struct Api {
    client: Client,
    limits: HostLimits,
    options: VerifyOptions,
}

impl Api {
    /// A client with `options`' timeout, limits and retry policy.
    pub(crate) fn new(options: VerifyOptions) -> Self {
        let limits = HostLimits::new(options.per_host, options.per_host_interval);
        Api { client: Client::new(options.timeout), limits, options }
    }

    /// Makes `call` at `base`, retrying transient failures; the answer whatever its final
    /// status, or why there is none (in fixed words).
    pub(crate) fn send(&self, base: &BaseUrl, call: &Call) -> Result<Answer, String> {
        let outcome = retrying(&self.options, &self.limits, base.origin(), || match self.client.call(base, call) {
            Ok(answer) if matches!(answer.status, 408 | 429 | 500..=599) => {
                Attempt::Retry(format!("HTTP {}", answer.status), answer.retry_after)
            }
            Ok(answer) => Attempt::Done(Ok(answer)),
            Err(failure) if failure.transient => Attempt::Retry(failure.reason.to_string(), None),
            Err(failure) => Attempt::Done(Err(failure.reason.to_string())),
        });
        outcome.and_then(|answer| answer)
    }

    /// GETs `path` with the bearer `token`; the body of a 200, else why not.
    pub(crate) fn get_json(&self, base: &BaseUrl, path: &str, token: &str) -> Result<Value, String> {
        let call = Call { method: Method::Get, path, bearer: Some(token), headers: &[], json: None };
        let answer = self.send(base, &call)?;
        match answer.status {
            200 if answer.body.is_object() => Ok(answer.body),
            200 => Err("HTTP 200 without a JSON object".into()),
            status => Err(format!("HTTP {status}")),
        }
    }

    /// Every item of an OpenAI list endpoint (`data`), following `has_more` with
    /// `after=<last_id>`; `path` carries any query of its own.
    pub(crate) fn list_all(&self, base: &BaseUrl, path: &str, token: &str) -> Result<Vec<Value>, String> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let cursor = after.as_deref().map(|id| format!("&after={}", encode(id))).unwrap_or_default();
            let page = self.get_json(base, &format!("{path}{separator}limit=100{cursor}"), token)?;
            items.extend(page["data"].as_array().ok_or("a list answer without `data`")?.iter().cloned());
            after = match list_cursor(&page)? {
                Some(next) => Some(next),
                None => return Ok(items),
            };
        }
        Err(format!("a listing longer than {MAX_PAGES} pages"))
    }

    /// Every page of a Usage API endpoint, following `has_more` with `page=<next_page>`;
    /// `path` carries a query.
    pub(crate) fn pages(&self, base: &BaseUrl, path: &str, token: &str) -> Result<Vec<Value>, String> {
        let mut pages = Vec::new();
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let cursor = next.as_deref().map(|page| format!("&page={}", encode(page))).unwrap_or_default();
            let page = self.get_json(base, &format!("{path}{cursor}"), token)?;
            next = usage_cursor(&page)?;
            pages.push(page);
            if next.is_none() {
                return Ok(pages);
            }
        }
        Err(format!("usage longer than {MAX_PAGES} pages"))
    }
}

/// The `after` cursor for the page that follows `page` of an OpenAI list: its `last_id`
/// (else the last item's `id`) while `has_more` is true; `None` at the end.
fn list_cursor(page: &Value) -> Result<Option<String>, String> {
    if page["has_more"].as_bool() != Some(true) {
        return Ok(None);
    }
    let last_item = page["data"].as_array().and_then(|data| data.last()).and_then(|item| item["id"].as_str());
    let last = page["last_id"].as_str().or(last_item).ok_or("`has_more` without `last_id`")?;
    Ok(Some(last.to_string()))
}

/// The `page` cursor for the Usage API page that follows `page`: its `next_page` while
/// `has_more` is true; `None` at the end.
fn usage_cursor(page: &Value) -> Result<Option<String>, String> {
    if page["has_more"].as_bool() != Some(true) {
        return Ok(None);
    }
    let next = page["next_page"].as_str().ok_or("`has_more` without `next_page`")?;
    Ok(Some(next.to_string()))
}

/// `text` percent-encoded for a URL path segment or query value, so an id from an answer
/// cannot change the request's shape.
pub(crate) fn encode(text: &str) -> String {
    crate::escape::percent_encode(text, b"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_go_on_after_the_last_id_while_there_is_more() {
        let page = json!({"data": [{"id": "a"}, {"id": "b"}], "has_more": true, "last_id": "b"});
        assert_eq!(list_cursor(&page).unwrap().as_deref(), Some("b"));
        let without_last_id = json!({"data": [{"id": "a"}, {"id": "c"}], "has_more": true});
        assert_eq!(list_cursor(&without_last_id).unwrap().as_deref(), Some("c"));
        assert_eq!(list_cursor(&json!({"data": [], "has_more": false, "last_id": "z"})).unwrap(), None);
        assert_eq!(list_cursor(&json!({"data": []})).unwrap(), None);
        assert!(list_cursor(&json!({"data": [], "has_more": true})).is_err());
    }

    #[test]
    fn usage_goes_on_with_next_page_while_there_is_more() {
        let page = json!({"object": "page", "data": [], "has_more": true, "next_page": "page_2"});
        assert_eq!(usage_cursor(&page).unwrap().as_deref(), Some("page_2"));
        assert_eq!(usage_cursor(&json!({"has_more": false, "next_page": "x"})).unwrap(), None);
        assert!(usage_cursor(&json!({"has_more": true, "next_page": null})).is_err());
    }

    #[test]
    fn ids_are_encoded_so_they_cannot_add_to_a_request() {
        assert_eq!(encode("key_abc-1.x~"), "key_abc-1.x~");
        assert_eq!(encode("a/../b?c=d&e#"), "a%2F..%2Fb%3Fc%3Dd%26e%23");
        assert_eq!(encode("AAAAAGdGxdEiJdKOAAAAAGcqsYA="), "AAAAAGdGxdEiJdKOAAAAAGcqsYA%3D");
    }
}
