//! One-line descriptions of AWS SDK errors for logs (the SDK's own display of a
//! service error includes the whole raw response).

use std::error::Error;
use std::fmt::Debug;

use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};

/// `Code: message` for an error the queue service answered, else the error and
/// its causes (connection refused, timeout, credentials, ...).
pub(crate) fn describe<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + Error + 'static,
    R: Debug,
{
    match e {
        SdkError::ServiceError(s) => {
            let err = s.err();
            format!("{}: {}", err.code().unwrap_or("service error"), err.message().unwrap_or("no message"))
        }
        other => {
            let mut parts = vec![other.to_string()];
            let mut source = other.source();
            while let Some(cause) = source {
                parts.push(cause.to_string());
                source = cause.source();
            }
            parts.join(": ")
        }
    }
}
