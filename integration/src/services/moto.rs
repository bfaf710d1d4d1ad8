//! A real moto (`moto_server`, the AWS emulator) on 127.0.0.1 for tests, and
//! clients (the real `aws-sdk-sqs` and `aws-sdk-dynamodb`) that drive it:
//! create queues, send messages, read queue counts; create key-value tables
//! laid out as Spin's `aws_dynamo` store expects and read their items.
//!
//! moto lives in a venv (`CSS_MOTO_VENV`, default `/var/tmp/css-moto-venv`) that
//! `integration/scripts/setup-host.sh` creates.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use aws_sdk_sqs::types::QueueAttributeName;

use crate::process::{free_port, Running};

/// The fake account credentials and region every moto test uses.
pub const REGION: &str = "us-east-1";
const ACCESS_KEY: &str = "testing";
const SECRET_KEY: &str = "testing";

/// The venv holding `moto_server`.
pub fn venv() -> PathBuf {
    std::env::var_os("CSS_MOTO_VENV").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/var/tmp/css-moto-venv"))
}

/// The `moto_server` binary; panics with a hint when the venv was not created.
fn moto_server() -> PathBuf {
    let server = venv().join("bin/moto_server");
    assert!(
        server.is_file(),
        "{} not found: run `bash integration/scripts/setup-host.sh` (it installs moto into {})",
        server.display(),
        venv().display()
    );
    server
}

/// moto's own server application, run by werkzeug without threads.
const SERIAL_SERVER: &str = r#"
import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
run_simple("127.0.0.1", int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False)
"#;

/// A running `moto_server`; killed when dropped.
pub struct Moto {
    process: Running,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    // The client is declared before the runtime so that it is dropped first.
    client: aws_sdk_sqs::Client,
    dynamo: aws_sdk_dynamodb::Client,
    runtime: tokio::runtime::Runtime,
}

impl Moto {
    /// Starts `moto_server -H 127.0.0.1 -p <free port>` and waits until it accepts
    /// connections.
    pub fn start() -> anyhow::Result<Self> {
        let port = free_port();
        let mut cmd = Command::new(moto_server());
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        Self::start_as(cmd, port)
    }

    /// Starts moto serving one request at a time. moto's DynamoDB checks a
    /// write's condition and writes without a lock, so two concurrent conditional
    /// writes can both pass; real DynamoDB makes each one atomic, and serving
    /// requests one by one gives moto the same guarantee.
    pub fn start_serial() -> anyhow::Result<Self> {
        let port = free_port();
        let mut cmd = Command::new(venv().join("bin/python"));
        cmd.args(["-c", SERIAL_SERVER, &port.to_string()]);
        Self::start_as(cmd, port)
    }

    fn start_as(cmd: Command, port: u16) -> anyhow::Result<Self> {
        let mut process = Running::spawn(cmd)?;
        let end = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(code) = process.try_status() {
                anyhow::bail!("moto_server exited with {code}:\n{}", process.output());
            }
            anyhow::ensure!(Instant::now() < end, "moto_server did not listen on {port}:\n{}", process.output());
            std::thread::sleep(Duration::from_millis(100));
        }
        let endpoint = format!("http://127.0.0.1:{port}");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new(REGION))
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "tests"))
            .endpoint_url(&endpoint)
            .build();
        let client = aws_sdk_sqs::Client::from_conf(config);
        let dynamo = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::Config::builder()
                .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
                .region(aws_sdk_dynamodb::config::Region::new(REGION))
                .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                    ACCESS_KEY, SECRET_KEY, None, None, "tests",
                ))
                .endpoint_url(&endpoint)
                .build(),
        );
        Ok(Self { process, endpoint, client, dynamo, runtime })
    }

    /// Freezes the server (SIGSTOP): connections stay open and requests hang, as in
    /// a network partition or an overloaded endpoint.
    pub fn pause(&self) {
        self.process.signal(libc::SIGSTOP);
    }

    /// Lets a paused server go on (SIGCONT), with its queues as they were.
    pub fn resume(&self) {
        self.process.signal(libc::SIGCONT);
    }

    /// Removes every message of the queue (PurgeQueue).
    pub fn purge(&self, queue_url: &str) -> anyhow::Result<()> {
        self.runtime.block_on(self.client.purge_queue().queue_url(queue_url).send())?;
        Ok(())
    }

    /// The environment that points an app's AWS SDK at this moto.
    pub fn app_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("AWS_REGION", REGION.into()),
            ("AWS_ENDPOINT_URL_SQS", self.endpoint.clone()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
        ]
    }

    /// Creates table `name` as Spin's `aws_dynamo` key-value store uses it: a
    /// string partition key `PK`.
    pub fn create_key_value_table(&self, name: &str) -> anyhow::Result<()> {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        let key = KeySchemaElement::builder().attribute_name("PK").key_type(KeyType::Hash).build()?;
        let attribute =
            AttributeDefinition::builder().attribute_name("PK").attribute_type(ScalarAttributeType::S).build()?;
        self.runtime.block_on(
            self.dynamo
                .create_table()
                .table_name(name)
                .key_schema(key)
                .attribute_definitions(attribute)
                .billing_mode(BillingMode::PayPerRequest)
                .send(),
        )?;
        Ok(())
    }

    /// The binary `VAL` attribute of the item whose `PK` is `key` in table `table`.
    pub fn key_value_item(&self, table: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        use aws_sdk_dynamodb::types::AttributeValue;
        let out = self.runtime.block_on(
            self.dynamo
                .get_item()
                .table_name(table)
                .key("PK", AttributeValue::S(key.into()))
                .consistent_read(true)
                .send(),
        )?;
        Ok(match out.item.and_then(|mut item| item.remove("VAL")) {
            Some(AttributeValue::B(value)) => Some(value.into_inner()),
            _ => None,
        })
    }

    /// Creates queue `name` with the given visibility timeout; returns its URL.
    pub fn create_queue(&self, name: &str, visibility_timeout_secs: u32) -> anyhow::Result<String> {
        let out = self.runtime.block_on(
            self.client
                .create_queue()
                .queue_name(name)
                .attributes(QueueAttributeName::VisibilityTimeout, visibility_timeout_secs.to_string())
                .send(),
        )?;
        out.queue_url().map(str::to_string).context("moto returned no queue URL")
    }

    /// Sends each of `bodies` to the queue (in batches of ten).
    pub fn send(&self, queue_url: &str, bodies: &[String]) -> anyhow::Result<()> {
        use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
        for (chunk_no, chunk) in bodies.chunks(10).enumerate() {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, body)| {
                    SendMessageBatchRequestEntry::builder().id(format!("m{chunk_no}-{i}")).message_body(body).build()
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .runtime
                .block_on(self.client.send_message_batch().queue_url(queue_url).set_entries(Some(entries)).send())?;
            anyhow::ensure!(out.failed().is_empty(), "moto refused messages: {:?}", out.failed());
        }
        Ok(())
    }

    /// `(ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible)`.
    pub fn counts(&self, queue_url: &str) -> anyhow::Result<(u64, u64)> {
        let out = self.runtime.block_on(
            self.client
                .get_queue_attributes()
                .queue_url(queue_url)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                .send(),
        )?;
        let attrs = out.attributes().cloned().unwrap_or_default();
        let read = |name: QueueAttributeName| -> anyhow::Result<u64> {
            let v = attrs.get(&name).with_context(|| format!("moto did not report {name:?}"))?;
            Ok(v.parse()?)
        };
        Ok((
            read(QueueAttributeName::ApproximateNumberOfMessages)?,
            read(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)?,
        ))
    }

    /// Waits up to `timeout` until the queue holds `expected` messages in all
    /// (visible plus in flight); returns the last counts either way.
    pub fn wait_for_total(&self, queue_url: &str, expected: u64, timeout: Duration) -> anyhow::Result<(u64, u64)> {
        let end = Instant::now() + timeout;
        loop {
            let counts = self.counts(queue_url)?;
            if counts.0 + counts.1 == expected || Instant::now() > end {
                return Ok(counts);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
