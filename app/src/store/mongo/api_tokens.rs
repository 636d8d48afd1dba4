//! The JSON API's tokens in MongoDB (`api_tokens`: each token's SHA-256, unique, with its name
//! and times).

use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::{Binary, DateTime as BsonDateTime, doc, spec::BinarySubtype};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::MongoStore;
use super::docs::{date, undate};
use crate::store::{ApiToken, ApiTokenHash, ApiTokenId, StoreError};

/// One token as stored.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ApiTokenDoc {
    #[serde(rename = "_id")]
    id: String,
    name: String,
    token_hash: Binary,
    created_at: BsonDateTime,
    last_used_at: Option<BsonDateTime>,
}

impl From<&ApiToken> for ApiTokenDoc {
    fn from(t: &ApiToken) -> Self {
        Self {
            id: t.id.as_str().to_string(),
            name: t.name.clone(),
            token_hash: Binary { subtype: BinarySubtype::Generic, bytes: t.hash.0.to_vec() },
            created_at: date(t.created_at),
            last_used_at: t.last_used_at.map(date),
        }
    }
}

impl TryFrom<ApiTokenDoc> for ApiToken {
    type Error = StoreError;
    fn try_from(doc: ApiTokenDoc) -> Result<Self, StoreError> {
        let hash = <[u8; 32]>::try_from(doc.token_hash.bytes.as_slice())
            .map_err(|_| StoreError::Corrupt(format!("api token hash: {} bytes", doc.token_hash.bytes.len())))?;
        Ok(ApiToken {
            id: ApiTokenId::from_stored(doc.id),
            name: doc.name,
            hash: ApiTokenHash(hash),
            created_at: undate(doc.created_at, "created_at")?,
            last_used_at: doc.last_used_at.map(|at| undate(at, "last_used_at")).transpose()?,
        })
    }
}

fn hash_binary(hash: &ApiTokenHash) -> Binary {
    Binary { subtype: BinarySubtype::Generic, bytes: hash.0.to_vec() }
}

impl MongoStore {
    pub(super) fn api_tokens_collection(&self) -> Collection<ApiTokenDoc> {
        self.db.collection("api_tokens")
    }

    pub(super) async fn list_api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let docs: Vec<ApiTokenDoc> =
            self.api_tokens_collection().find(doc! {}).sort(doc! { "created_at": 1, "_id": 1 }).await?.try_collect().await?;
        docs.into_iter().map(ApiToken::try_from).collect()
    }

    pub(super) async fn add_api_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        self.api_tokens_collection().insert_one(ApiTokenDoc::from(token)).await?;
        Ok(())
    }

    pub(super) async fn find_api_token(&self, hash: &ApiTokenHash) -> Result<Option<ApiToken>, StoreError> {
        self.api_tokens_collection().find_one(doc! { "token_hash": hash_binary(hash) }).await?.map(ApiToken::try_from).transpose()
    }

    pub(super) async fn touch_token(&self, id: &ApiTokenId, at: OffsetDateTime, not_before: OffsetDateTime) -> Result<bool, StoreError> {
        let filter = doc! {
            "_id": id.as_str(),
            "$or": [ { "last_used_at": null }, { "last_used_at": { "$lt": date(not_before) } } ],
        };
        let done = self.api_tokens_collection().update_one(filter, doc! { "$set": { "last_used_at": date(at) } }).await?;
        Ok(done.modified_count == 1)
    }

    pub(super) async fn remove_api_token(&self, id: &ApiTokenId) -> Result<bool, StoreError> {
        Ok(self.api_tokens_collection().delete_one(doc! { "_id": id.as_str() }).await?.deleted_count == 1)
    }
}
