//! The audit log: every change made through the API (and by operators' commands) with who made
//! it, when, and the record before and after, written in the same transaction as the change where
//! the change is one, so the log never claims what did not happen.

use serde_json::Value;
use sqlx::AnyConnection;
pub use wns_api_types::AuditEntry as Entry;

use crate::store::Store;

/// One change, as it is recorded.
pub struct Change<'a> {
    pub who: &'a str,
    pub entity: &'a str,
    pub action: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl Change<'_> {
    pub async fn record_in(&self, conn: &mut AnyConnection, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query("insert into audit_log (at, who, entity, action, before, after) values ($1, $2, $3, $4, $5, $6)")
            .bind(now)
            .bind(self.who)
            .bind(self.entity)
            .bind(self.action)
            .bind(self.before.as_ref().map(Value::to_string))
            .bind(self.after.as_ref().map(Value::to_string))
            .execute(conn)
            .await?;
        Ok(())
    }

    pub async fn record(&self, store: &Store, now: i64) -> Result<(), sqlx::Error> {
        let mut conn = store.pool().acquire().await?;
        self.record_in(&mut conn, now).await
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: i64,
    who: String,
    entity: String,
    action: String,
    before: Option<String>,
    after: Option<String>,
}

/// The changes of `entity`, newest first, at most `limit`.
pub async fn of(store: &Store, entity: &str, limit: i64) -> Result<Vec<Entry>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "select id, at, who, entity, action, before, after from audit_log where entity = $1 order by id desc limit $2",
    )
    .bind(entity)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    let json = |s: Option<String>| s.map(|s| serde_json::from_str(&s).unwrap_or(Value::String(s)));
    Ok(rows
        .into_iter()
        .map(|r| Entry {
            id: r.id,
            at: r.at,
            who: r.who,
            entity: r.entity,
            action: r.action,
            before: json(r.before),
            after: json(r.after),
        })
        .collect())
}
