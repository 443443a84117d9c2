//! Watermarks: one number per name in `watermarks` — where a sweep or a read got to. Most hold
//! wns's own milliseconds; those that hold a NetSuite time keep NetSuite's own `lastmodifieddate`
//! text (its clock, its zone) as the digits `yyyymmddhhmmss`, so neither clock skew nor the
//! account's time zone can skip a change.

use super::Store;

/// The value kept under `name`.
pub async fn get(store: &Store, name: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("select value from watermarks where name = $1").bind(name).fetch_optional(store.pool()).await
}

/// Keeps `value` under `name`.
pub async fn set(store: &Store, name: &str, value: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into watermarks (name, value, updated_at) values ($1, $2, $3) \
         on conflict (name) do update set value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(value)
    .bind(now)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The NetSuite time kept under `name`, as NetSuite wrote it (`2026-11-27 06:13:39`).
pub async fn netsuite_time(store: &Store, name: &str) -> Result<Option<String>, sqlx::Error> {
    Ok(get(store, name).await?.map(from_digits))
}

/// Keeps `time` (NetSuite's text) under `name`; text that is not such a time is ignored.
pub async fn set_netsuite_time(store: &Store, name: &str, time: &str, now: i64) -> Result<(), sqlx::Error> {
    match to_digits(time) {
        Some(digits) => set(store, name, digits, now).await,
        None => Ok(()),
    }
}

fn to_digits(s: &str) -> Option<i64> {
    let d: String = s.chars().filter(char::is_ascii_digit).collect();
    (d.len() == 14).then(|| d.parse().ok()).flatten()
}

fn from_digits(d: i64) -> String {
    let s = format!("{d:014}");
    format!("{}-{}-{} {}:{}:{}", &s[0..4], &s[4..6], &s[6..8], &s[8..10], &s[10..12], &s[12..14])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netsuite_times_round_trip_through_the_digits() {
        assert_eq!(to_digits("2026-11-27 06:13:39"), Some(20261127061339));
        assert_eq!(from_digits(20261127061339), "2026-11-27 06:13:39");
        assert_eq!(to_digits("yesterday"), None);
    }
}
