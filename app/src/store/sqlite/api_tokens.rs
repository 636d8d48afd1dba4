//! The JSON API's tokens in SQLite (`api_tokens`: each token's SHA-256, name and times).

use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;

use super::{SqliteStore, corrupt, optional_time_at, time_at};
use crate::store::records::to_millis;
use crate::store::{ApiToken, ApiTokenHash, ApiTokenId, StoreError};

fn token_from(row: &SqliteRow) -> Result<ApiToken, StoreError> {
    let hash: Vec<u8> = row.try_get("token_hash")?;
    let hash = <[u8; 32]>::try_from(hash.as_slice()).map_err(|_| corrupt("api token hash", format!("{} bytes", hash.len())))?;
    Ok(ApiToken {
        id: ApiTokenId::from_stored(row.try_get::<String, _>("id")?),
        name: row.try_get("name")?,
        hash: ApiTokenHash(hash),
        created_at: time_at(row, "created_at")?,
        last_used_at: optional_time_at(row, "last_used_at")?,
    })
}

impl SqliteStore {
    pub(super) async fn list_api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query("SELECT * FROM api_tokens ORDER BY created_at, id").fetch_all(&self.pool).await?;
        rows.iter().map(token_from).collect()
    }

    pub(super) async fn add_api_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO api_tokens (id, name, token_hash, created_at, last_used_at) VALUES (?, ?, ?, ?, ?)")
            .bind(token.id.as_str())
            .bind(&token.name)
            .bind(token.hash.0.as_slice())
            .bind(to_millis(token.created_at))
            .bind(token.last_used_at.map(to_millis))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn find_api_token(&self, hash: &ApiTokenHash) -> Result<Option<ApiToken>, StoreError> {
        let row = sqlx::query("SELECT * FROM api_tokens WHERE token_hash = ?").bind(hash.0.as_slice()).fetch_optional(&self.pool).await?;
        row.as_ref().map(token_from).transpose()
    }

    pub(super) async fn touch_token(&self, id: &ApiTokenId, at: OffsetDateTime, not_before: OffsetDateTime) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)")
            .bind(to_millis(at))
            .bind(id.as_str())
            .bind(to_millis(not_before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn remove_api_token(&self, id: &ApiTokenId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = ?").bind(id.as_str()).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }
}
