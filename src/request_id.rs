//! The client's `x-request-id` is logged and echoed, so only a plain token is kept: at most 64
//! characters of `[A-Za-z0-9._-]`. Anything else (spaces that would forge log fields, quotes,
//! non-ASCII) is dropped, and the request gets a fresh id instead.

use axum::extract::Request;

pub const MAX_REQUEST_ID_CHARS: usize = 64;

/// Whether a client-sent request id may be logged as it is.
pub fn is_safe(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_CHARS
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Removes an unsafe `x-request-id` (or several) before the request id layer runs.
pub async fn drop_unsafe(mut request: Request) -> Request {
    let headers = request.headers_mut();
    let ids: Vec<_> = headers.get_all("x-request-id").iter().collect();
    if ids.len() > 1 || ids.iter().any(|v| !is_safe(v.as_bytes())) {
        headers.remove("x-request-id");
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_tokens_are_kept_and_the_rest_dropped() {
        for ok in [
            "abc",
            "0b6f3c1e-7d4e-4e8e-9a4f-2a1b3c4d5e6f",
            "client_1.retry-2",
        ] {
            assert!(is_safe(ok.as_bytes()), "{ok}");
        }
        let long = "a".repeat(65);
        for bad in [
            "",
            "a b",
            "x\" status=200",
            "ü",
            long.as_str(),
            "id\tpath=/admin",
        ] {
            assert!(!is_safe(bad.as_bytes()), "{bad:?}");
        }
    }
}
