//! A key-value store in an AWS DynamoDB table, laid out as Spin lays it out so
//! the same table serves both: one item per key, the key in the string
//! partition key `PK`, the value in the binary attribute `VAL` (a number kept
//! by `increment` as its decimal text). The table must exist.
//!
//! Credentials come from the runtime config (`access_key`, `secret_key`,
//! `token`) or else from the AWS SDK's default chain (the `AWS_*` variables of
//! the container, a web identity, an instance or container role); the endpoint
//! from `AWS_ENDPOINT_URL_DYNAMODB` or `AWS_ENDPOINT_URL` when set (a local
//! DynamoDB), else AWS's for the region.

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use tokio::sync::OnceCell;

use super::error::{KeyValueError, KvResult};

/// The partition key attribute (Spin's name).
const PK: &str = "PK";
/// The value attribute (Spin's name).
const VAL: &str = "VAL";
/// How often `increment` retries when another writer changed the number between
/// its read and its conditional write.
const INCREMENT_ATTEMPTS: usize = 32;
/// The longest pause, in milliseconds, before a retry of `increment`; each lost
/// race pauses a random time up to twice the last bound, so writers racing on one
/// key spread out instead of colliding again at once.
const MAX_RETRY_PAUSE_MS: u64 = 64;

/// The runtime config of one `aws_dynamo` store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DynamoConfig {
    /// The table's region.
    pub region: String,
    /// The table.
    pub table: String,
    /// Static credentials (access key, secret key, session token), if given.
    pub credentials: Option<(String, String, Option<String>)>,
    /// Whether reads are strongly consistent (Spin's `consistent_read`).
    pub consistent_read: bool,
}

/// A store in one DynamoDB table; the client is made on first use.
pub(crate) struct DynamoStore {
    config: DynamoConfig,
    client: OnceCell<Client>,
}

impl DynamoStore {
    /// A store on `config`'s table (nothing is contacted yet).
    pub(crate) fn new(config: DynamoConfig) -> Self {
        Self { config, client: OnceCell::new() }
    }

    /// What logs and the start-up summary call this store.
    pub(crate) fn describe(&self) -> String {
        format!("aws_dynamo table {} ({})", self.config.table, self.config.region)
    }

    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async {
                let mut loader =
                    aws_config::defaults(BehaviorVersion::latest()).region(Region::new(self.config.region.clone()));
                if let Some((access_key, secret_key, token)) = &self.config.credentials {
                    let credentials =
                        Credentials::new(access_key, secret_key, token.clone(), None, "spin runtime config");
                    loader = loader.credentials_provider(credentials);
                }
                Client::new(&loader.load().await)
            })
            .await
    }

    fn key(key: &str) -> AttributeValue {
        AttributeValue::S(key.to_owned())
    }

    /// The item at `key` with only `attribute`, read as the store's reads are.
    async fn read(&self, key: &str, attribute: &str, consistent: bool) -> KvResult<Option<AttributeValue>> {
        let output = self
            .client()
            .await
            .get_item()
            .table_name(&self.config.table)
            .key(PK, Self::key(key))
            .projection_expression("#a")
            .expression_attribute_names("#a", attribute)
            .consistent_read(consistent)
            .send()
            .await
            .map_err(failed)?;
        Ok(output.item.and_then(|mut item| item.remove(attribute)))
    }

    pub(crate) async fn get(&self, key: &str) -> KvResult<Option<Vec<u8>>> {
        Ok(match self.read(key, VAL, self.config.consistent_read).await? {
            Some(AttributeValue::B(value)) => Some(value.into_inner()),
            _ => None,
        })
    }

    pub(crate) async fn set(&self, key: &str, value: &[u8]) -> KvResult<()> {
        self.client()
            .await
            .put_item()
            .table_name(&self.config.table)
            .item(PK, Self::key(key))
            .item(VAL, AttributeValue::B(Blob::new(value)))
            .send()
            .await
            .map_err(failed)?;
        Ok(())
    }

    pub(crate) async fn delete(&self, key: &str) -> KvResult<()> {
        let client = self.client().await;
        client.delete_item().table_name(&self.config.table).key(PK, Self::key(key)).send().await.map_err(failed)?;
        Ok(())
    }

    pub(crate) async fn exists(&self, key: &str) -> KvResult<bool> {
        Ok(self.read(key, PK, self.config.consistent_read).await?.is_some())
    }

    /// Every key, read page by page with `Scan` (keys only).
    pub(crate) async fn keys(&self) -> KvResult<Vec<String>> {
        let client = self.client().await;
        let mut pages = client
            .scan()
            .table_name(&self.config.table)
            .projection_expression("#k")
            .expression_attribute_names("#k", PK)
            .consistent_read(self.config.consistent_read)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            for mut item in page.map_err(failed)?.items.unwrap_or_default() {
                if let Some(AttributeValue::S(key)) = item.remove(PK) {
                    keys.push(key);
                }
            }
        }
        Ok(keys)
    }

    /// Adds `delta` to the decimal number at `key` (0 when missing): a strongly
    /// consistent read, then a write on condition that the value is still the
    /// one read, retried after a short random pause when another writer came first.
    pub(crate) async fn increment(&self, key: &str, delta: i64) -> KvResult<i64> {
        for attempt in 0..INCREMENT_ATTEMPTS {
            if attempt > 0 {
                let bound = (1u64 << attempt.min(6)).min(MAX_RETRY_PAUSE_MS);
                tokio::time::sleep(std::time::Duration::from_millis(fastrand::u64(0..=bound))).await;
            }
            let current = match self.read(key, VAL, true).await? {
                Some(AttributeValue::B(value)) => Some(value.into_inner()),
                _ => None,
            };
            let number = match &current {
                None => 0,
                Some(bytes) => std::str::from_utf8(bytes).ok().and_then(|text| text.parse::<i64>().ok()).ok_or_else(
                    || KeyValueError::Dynamo(format!("the value at `{key}` is not a decimal number")),
                )?,
            };
            let sum = number
                .checked_add(delta)
                .ok_or_else(|| KeyValueError::Dynamo(format!("the number at `{key}` would overflow")))?;
            if self.swap_if(key, current, sum.to_string().into_bytes()).await? {
                return Ok(sum);
            }
        }
        Err(KeyValueError::Dynamo(format!(
            "`{key}` kept changing: no increment after {INCREMENT_ATTEMPTS} attempts"
        )))
    }

    /// Writes `value` at `key` on condition that `key` still holds `expected`
    /// (no value when `None`); whether it did.
    pub(crate) async fn swap_if(&self, key: &str, expected: Option<Vec<u8>>, value: Vec<u8>) -> KvResult<bool> {
        let update = self
            .client()
            .await
            .update_item()
            .table_name(&self.config.table)
            .key(PK, Self::key(key))
            .update_expression("SET #v = :new")
            .expression_attribute_names("#v", VAL)
            .expression_attribute_values(":new", AttributeValue::B(Blob::new(value)));
        let update = match expected {
            Some(old) => update
                .condition_expression("#v = :old")
                .expression_attribute_values(":old", AttributeValue::B(Blob::new(old))),
            None => update.condition_expression("attribute_not_exists(#v)"),
        };
        match update.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(failed(e)),
        }
    }
}

/// A failed request as the guest's error text.
fn failed<E: std::error::Error + Send + Sync + 'static, R: std::fmt::Debug>(e: SdkError<E, R>) -> KeyValueError {
    KeyValueError::Dynamo(format!("DynamoDB: {}", DisplayErrorContext(&e)))
}
