//! What a simulated account is: its id as issued, the credentials it accepts, its concurrency
//! limit, how slow and how unreliable it is. Everything here can be changed while it runs, so
//! a benchmark can turn faults on half-way.

use std::collections::BTreeMap;
use std::time::Duration;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::latency::Latency;

/// 64 hex characters, like the keys NetSuite shows once on an integration record / access token.
pub const TEST_CONSUMER_KEY: &str = "4a3ff6c251a55057bb1e62d8dc8998a0366e88f3a8fe735265fc425368b0f154";
pub const TEST_CONSUMER_SECRET: &str = "9d1c2c3e8f7a6b5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d";
pub const TEST_TOKEN_ID: &str = "52cfe88fecf2e2b74e833e7dfc4cae79ff44c3ca9f696d61e2a7eac6c8357c3c";
pub const TEST_TOKEN_SECRET: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// One integration record's consumer key/secret paired with one access token (user + role).
#[derive(Clone)]
pub struct TbaCredentials {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub token_id: String,
    pub token_secret: String,
}

/// Secrets stay out of logs and panic messages.
impl std::fmt::Debug for TbaCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TbaCredentials")
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"<redacted>")
            .field("token_id", &self.token_id)
            .field("token_secret", &"<redacted>")
            .finish()
    }
}

impl TbaCredentials {
    pub fn test() -> TbaCredentials {
        TbaCredentials {
            consumer_key: TEST_CONSUMER_KEY.into(),
            consumer_secret: TEST_CONSUMER_SECRET.into(),
            token_id: TEST_TOKEN_ID.into(),
            token_secret: TEST_TOKEN_SECRET.into(),
        }
    }
}

/// An OAuth 2.0 client-credentials mapping: the integration's client id and the certificate
/// (here: its public key) registered under `certificate_id`, which the JWT names as `kid`.
#[derive(Debug, Clone)]
pub struct OAuth2Client {
    pub client_id: String,
    pub certificate_id: String,
    /// RSA (PS256/384/512) or EC P-256/P-384 (ES256/384) public key, PEM.
    pub public_key_pem: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Share of requests answered 500 UNEXPECTED_ERROR without doing anything.
    pub server_error_rate: f64,
    /// Share of requests held for `timeout_delay` (slot included) before being answered.
    pub timeout_rate: f64,
    pub timeout_delay: Duration,
    /// Share of writes that are committed and then answered by dropping the connection.
    pub lost_response_rate: f64,
    /// Share of record and SuiteQL requests answered 429 CONCURRENCY_LIMIT_EXCEEDED at once,
    /// whatever the number in flight, without doing anything (NetSuite also throttles on
    /// limits the account cannot see, such as per-integration and platform load).
    pub throttle_rate: f64,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            server_error_rate: 0.0,
            timeout_rate: 0.0,
            timeout_delay: Duration::from_secs(30),
            lost_response_rate: 0.0,
            throttle_rate: 0.0,
        }
    }
}

/// How long each kind of operation takes, multiplied by `scale`.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyProfile {
    /// Writes of transactions: create, upsert, patch, transform (salesOrder, itemFulfillment…).
    pub create: Latency,
    /// Writes of everything else (customer, location, items…).
    pub create_entity: Latency,
    pub get: Latency,
    pub suiteql: Latency,
    pub async_submit: Latency,
    pub token: Latency,
    pub scale: f64,
}

impl LatencyProfile {
    /// [INFERRED] No published numbers exist; these follow integrators' reports (SOAP calls of
    /// 0.8–2.4 s, sales orders slower than entities).
    pub fn realistic() -> LatencyProfile {
        let ms = Duration::from_millis;
        LatencyProfile {
            create: Latency::new(ms(800), ms(2500)),
            create_entity: Latency::new(ms(400), ms(1200)),
            get: Latency::new(ms(150), ms(500)),
            suiteql: Latency::new(ms(300), ms(1000)),
            async_submit: Latency::new(ms(200), ms(600)),
            token: Latency::new(ms(200), ms(600)),
            scale: 1.0,
        }
    }

    pub fn zero() -> LatencyProfile {
        LatencyProfile::fixed(Duration::ZERO)
    }

    /// Every operation takes exactly `d`.
    pub fn fixed(d: Duration) -> LatencyProfile {
        let l = Latency::fixed(d);
        LatencyProfile { create: l, create_entity: l, get: l, suiteql: l, async_submit: l, token: l, scale: 1.0 }
    }

    pub(crate) fn of(&self, class: LatencyClass) -> Latency {
        match class {
            LatencyClass::Create => self.create,
            LatencyClass::CreateEntity => self.create_entity,
            LatencyClass::Get => self.get,
            LatencyClass::SuiteQl => self.suiteql,
            LatencyClass::AsyncSubmit => self.async_submit,
            LatencyClass::Token => self.token,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LatencyClass {
    Create,
    CreateEntity,
    Get,
    SuiteQl,
    AsyncSubmit,
    Token,
}

#[derive(Debug, Clone)]
pub struct NetSuiteConfig {
    /// As issued, e.g. `1234567_SB1`: the OAuth realm must equal it exactly.
    pub account_id: String,
    pub tba: Vec<TbaCredentials>,
    pub oauth2_clients: Vec<OAuth2Client>,
    pub concurrency_limit: usize,
    pub latency: LatencyProfile,
    pub faults: Faults,
    pub max_clock_skew: Duration,
    pub token_lifetime: Duration,
    pub seed: u64,
    /// Stand-in for SuiteTax: when set, every salesOrder/invoice/cashSale/creditMemo line that
    /// brings no `taxAmount` is taxed at this rate (0.2 for 20 %) when the record is saved.
    pub tax_rate: Option<Decimal>,
}

impl NetSuiteConfig {
    pub fn for_tests() -> NetSuiteConfig {
        NetSuiteConfig {
            account_id: "1234567_SB1".into(),
            tba: vec![TbaCredentials::test()],
            oauth2_clients: Vec::new(),
            concurrency_limit: 5,
            latency: LatencyProfile::zero(),
            faults: Faults::default(),
            max_clock_skew: Duration::from_secs(300),
            token_lifetime: Duration::from_secs(3600),
            seed: 42,
            tax_rate: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    pub requests: u64,
    pub requests_by_op: BTreeMap<String, u64>,
    pub throttled_429: u64,
    pub peak_in_flight: usize,
    pub in_flight: usize,
    pub auth_failures: u64,
    pub server_errors_injected: u64,
    pub timeouts_injected: u64,
    pub responses_lost: u64,
}
