//! The customer comes first: every sales order needs its NetSuite customer, and a connector that
//! creates a customer per order (or per retry) buries the shop in duplicates.
//!
//! Registered WooCommerce customers are upserted by the external id `wc-<site>-customer-<id>`, so
//! a repeat can never create a second one. Guests are matched by these rules, in order, and the
//! rule that matched is kept with the link:
//!
//! 1. **linked id** — a NetSuite customer this guest (by e-mail) was linked to before;
//! 2. **external id** — the customer wns created for this e-mail (`wc-<site>-guest-<hash>`, the
//!    hash being the first 16 hex digits of sha256 of the lower-cased e-mail);
//! 3. **e-mail** — an existing NetSuite customer with the same e-mail, compared case-insensitively
//!    (the lowest internal id when several share it — NetSuite's oldest record);
//! 4. **created** — otherwise a new customer, upserted by that external id.
//!
//! Rules 2 and 3 are one SuiteQL query. Every step is safe to repeat: links are written after NetSuite answered, and the create is
//! an upsert, so a crash between the two only costs a lookup next time.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{
    netsuite::{
        ExternalId, Lane, NetSuiteClient, NsError,
        suiteql::{WindowedQuery, literal},
    },
    store::Store,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchRule {
    LinkedId,
    ExternalId,
    Email,
    Created,
}

impl MatchRule {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchRule::LinkedId => "linked_id",
            MatchRule::ExternalId => "external_id",
            MatchRule::Email => "email",
            MatchRule::Created => "created",
        }
    }
}

/// Who bought, as the WooCommerce order says (billing details).
#[derive(Debug, Clone, Default)]
pub struct Buyer {
    /// 0 for a guest.
    pub wc_customer_id: u64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerMatch {
    pub netsuite_id: String,
    pub rule: MatchRule,
}

#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error(transparent)]
    NetSuite(#[from] NsError),
    #[error("customer links: {0}")]
    Store(#[from] sqlx::Error),
    #[error("the order has no usable e-mail address ({0:?}); add one to the order's billing details")]
    NoEmail(String),
}

pub struct CustomerSync {
    ns: NetSuiteClient,
    store: Store,
    site: String,
    subsidiary: String,
}

impl CustomerSync {
    pub fn new(ns: NetSuiteClient, store: Store, site: &str, subsidiary: &str) -> CustomerSync {
        CustomerSync { ns, store, site: site.into(), subsidiary: subsidiary.into() }
    }

    /// The NetSuite customer for `buyer`, creating it when no rule finds one.
    pub async fn ensure(&self, buyer: &Buyer, now: i64) -> Result<CustomerMatch, CustomerError> {
        if buyer.wc_customer_id > 0 {
            return self.registered(buyer, now).await;
        }
        let email = buyer.email.trim().to_lowercase();
        if !email.contains('@') {
            return Err(CustomerError::NoEmail(buyer.email.clone()));
        }
        let hash = hex16(&email);
        let key = format!("guest:{hash}");
        if let Some(id) = self.linked(&key).await? {
            return Ok(CustomerMatch { netsuite_id: id, rule: MatchRule::LinkedId });
        }
        let eid = ExternalId::parse(format!("wc-{}-guest-{hash}", self.site)).expect("site and hex are valid");
        let (id, rule) = match self.by_external_id_or_email(&eid, &email).await? {
            Some(found) => found,
            None => (self.ns.upsert(Lane::Orders, "customer", &eid, &self.body(buyer)).await?.id, MatchRule::Created),
        };
        self.link(&key, &id, (rule != MatchRule::Email).then_some(&eid), rule, now).await?;
        Ok(CustomerMatch { netsuite_id: id, rule })
    }

    async fn registered(&self, buyer: &Buyer, now: i64) -> Result<CustomerMatch, CustomerError> {
        let key = format!("customer:{}", buyer.wc_customer_id);
        if let Some(id) = self.linked(&key).await? {
            return Ok(CustomerMatch { netsuite_id: id, rule: MatchRule::LinkedId });
        }
        let eid = ExternalId::parse(format!("wc-{}-customer-{}", self.site, buyer.wc_customer_id))
            .expect("site and id are valid");
        let id = self.ns.upsert(Lane::Orders, "customer", &eid, &self.body(buyer)).await?.id;
        self.link(&key, &id, Some(&eid), MatchRule::ExternalId, now).await?;
        Ok(CustomerMatch { netsuite_id: id, rule: MatchRule::ExternalId })
    }

    /// Rules 2 and 3 in one SuiteQL query (one request instead of two for every new guest): the
    /// customer with wns's external id, else the oldest with this e-mail, compared
    /// case-insensitively.
    async fn by_external_id_or_email(
        &self,
        eid: &ExternalId,
        email: &str,
    ) -> Result<Option<(String, MatchRule)>, NsError> {
        let q = WindowedQuery::new("SELECT id, externalid FROM customer", "id").and(format!(
            "(externalid = {} OR LOWER(email) = LOWER({}))",
            literal(eid.as_str()),
            literal(email)
        ));
        let rows = self.ns.suiteql_all(Lane::Orders, &q).await?;
        if let Some(r) = rows.iter().find(|r| r.get("externalid") == Some(eid.as_str())) {
            return Ok(r.get("id").map(|id| (id.to_string(), MatchRule::ExternalId)));
        }
        if rows.len() > 1 {
            tracing::warn!(email, "several NetSuite customers share this e-mail; using the oldest");
        }
        // Windowed queries come back in id order: the first is the oldest.
        Ok(rows.first().and_then(|r| r.get("id")).map(|id| (id.to_string(), MatchRule::Email)))
    }

    fn body(&self, b: &Buyer) -> Value {
        let mut body = json!({
            "isPerson": b.company.trim().is_empty(),
            "firstName": b.first_name,
            "lastName": b.last_name,
            "email": b.email.trim(),
            "phone": b.phone,
            "subsidiary": { "id": self.subsidiary },
        });
        if !b.company.trim().is_empty() {
            body["companyName"] = json!(b.company.trim());
        }
        body
    }

    async fn linked(&self, key: &str) -> Result<Option<String>, sqlx::Error> {
        let row = sqlx::query("select netsuite_id from customer_links where wc_key = $1")
            .bind(key)
            .fetch_optional(self.store.pool())
            .await?;
        row.map(|r| r.try_get(0)).transpose()
    }

    async fn link(
        &self,
        key: &str,
        id: &str,
        eid: Option<&ExternalId>,
        rule: MatchRule,
        now: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "insert into customer_links (wc_key, netsuite_id, external_id, matched_by, updated_at) values ($1, $2, $3, $4, $5) \
             on conflict (wc_key) do update set netsuite_id = excluded.netsuite_id, external_id = excluded.external_id, \
             matched_by = excluded.matched_by, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(id)
        .bind(eid.map(ExternalId::as_str))
        .bind(rule.as_str())
        .bind(now)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }
}

/// First 16 hex digits of sha256(`s`).
fn hex16(s: &str) -> String {
    Sha256::digest(s.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_guest_hash_is_sha256_of_the_lower_cased_email() {
        // printf 'jane@example.com' | sha256sum
        assert_eq!(super::hex16("jane@example.com"), "8c87b489ce35cf2e");
    }
}
