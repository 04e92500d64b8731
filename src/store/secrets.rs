//! Secrets every replica shares (`server_secrets`), made once by whichever
//! replica needs one first: the key that seals the state an input-required
//! result hands a client, so that any replica can check it.

use super::{SkillStore, StoreError, retry_busy};

impl SkillStore {
    /// The shared secret `name`, made (32 random bytes, hex) by the first
    /// replica that asks; every replica reads the same one.
    pub async fn shared_secret(&self, name: &str) -> Result<String, StoreError> {
        let fresh = hex::encode(rand::random::<[u8; 32]>());
        retry_busy(|| async {
            sqlx::query(
                "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(&fresh)
            .execute(self.pool())
            .await?;
            Ok(())
        })
        .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(self.pool())
                .await?,
        )
    }
}
