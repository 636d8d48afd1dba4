//! The conformance cases of the JSON API's tokens: kept by hash, found by hash, their last use
//! written at most once a minute, revoked by deletion.

use time::{Duration, OffsetDateTime};

use super::ok;
use crate::store::*;

fn token(name: &str, byte: u8, created_at: OffsetDateTime) -> ApiToken {
    ApiToken { id: ApiTokenId::random(), name: name.into(), hash: ApiTokenHash([byte; 32]), created_at, last_used_at: None }
}

pub(super) async fn api_tokens_are_found_by_hash_touched_at_most_once_a_minute_and_revoked(store: SharedStore) {
    let at = now();
    assert_eq!(ok(store.api_tokens()).await, Vec::new());
    let first = token("ci", 1, at);
    let second = token("grafana", 2, at + Duration::seconds(1));
    ok(store.insert_api_token(&second)).await;
    ok(store.insert_api_token(&first)).await;
    assert_eq!(ok(store.api_tokens()).await, vec![first.clone(), second.clone()], "oldest first");
    assert!(store.insert_api_token(&token("same hash", 1, at)).await.is_err(), "a hash is one token's only");

    assert_eq!(ok(store.api_token_by_hash(&ApiTokenHash([2; 32]))).await, Some(second.clone()));
    assert_eq!(ok(store.api_token_by_hash(&ApiTokenHash([9; 32]))).await, None);

    // The first use is written; another within the minute is not; one after it is.
    let used = at + Duration::seconds(5);
    assert!(ok(store.touch_api_token(&first.id, used, used - Duration::minutes(1))).await);
    let again = used + Duration::seconds(30);
    assert!(!ok(store.touch_api_token(&first.id, again, again - Duration::minutes(1))).await);
    let later = used + Duration::seconds(61);
    assert!(ok(store.touch_api_token(&first.id, later, later - Duration::minutes(1))).await);
    let read = ok(store.api_token_by_hash(&first.hash)).await;
    assert_eq!(read.and_then(|t| t.last_used_at), Some(later));
    assert!(!ok(store.touch_api_token(&ApiTokenId::random(), later, later)).await, "no such token");

    assert!(ok(store.delete_api_token(&first.id)).await);
    assert!(!ok(store.delete_api_token(&first.id)).await);
    assert_eq!(ok(store.api_token_by_hash(&first.hash)).await, None, "a revoked token is found no more");
    assert_eq!(ok(store.api_tokens()).await, vec![second]);
}
