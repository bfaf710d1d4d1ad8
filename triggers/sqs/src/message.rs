//! Turning a received SQS message into the guest's `message` record.

use aws_sdk_sqs::types::Message as SqsMessage;

use crate::executor::{Message, MessageAttribute, MessageAttributeValue};

/// How a message without an id is named in logs.
const UNKNOWN_ID: &str = "[unknown id]";

/// The message id for logs.
pub(crate) fn display_id(msg: &SqsMessage) -> &str {
    msg.message_id().unwrap_or(UNKNOWN_ID)
}

/// The guest record for `msg`: system attributes first (no data type), then user
/// attributes with their data type, each group sorted by name. A user attribute
/// with neither a string nor a binary value is skipped with a warning.
pub(crate) fn to_guest(msg: &SqsMessage) -> Message {
    let mut system: Vec<MessageAttribute> = msg
        .attributes()
        .into_iter()
        .flatten()
        .map(|(name, value)| MessageAttribute {
            name: name.as_str().to_string(),
            data_type: None,
            value: MessageAttributeValue::Str(value.clone()),
        })
        .collect();
    system.sort_by(|a, b| a.name.cmp(&b.name));
    let mut user: Vec<MessageAttribute> = msg
        .message_attributes()
        .into_iter()
        .flatten()
        .filter_map(|(name, v)| {
            let value = if let Some(s) = v.string_value() {
                MessageAttributeValue::Str(s.to_string())
            } else if let Some(b) = v.binary_value() {
                MessageAttributeValue::Binary(b.as_ref().to_vec())
            } else {
                tracing::warn!(
                    "message {}: attribute `{name}` (type {}) has neither a string nor a binary value; skipped",
                    display_id(msg),
                    v.data_type()
                );
                return None;
            };
            Some(MessageAttribute { name: name.clone(), data_type: Some(v.data_type().to_string()), value })
        })
        .collect();
    user.sort_by(|a, b| a.name.cmp(&b.name));
    system.extend(user);
    Message {
        id: msg.message_id().map(str::to_string),
        message_attributes: system,
        body: msg.body().map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sqs::primitives::Blob;
    use aws_sdk_sqs::types::{MessageAttributeValue as SqsValue, MessageSystemAttributeName};

    #[test]
    fn converts_body_id_and_attributes() {
        let msg = SqsMessage::builder()
            .message_id("m-1")
            .body("hello")
            .attributes(MessageSystemAttributeName::SentTimestamp, "1700000000000")
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "1")
            .message_attributes("colour", SqsValue::builder().data_type("String").string_value("blue").build().unwrap())
            .message_attributes(
                "blob",
                SqsValue::builder().data_type("Binary").binary_value(Blob::new(vec![1, 2])).build().unwrap(),
            )
            .build();
        let m = to_guest(&msg);
        assert_eq!(m.id.as_deref(), Some("m-1"));
        assert_eq!(m.body.as_deref(), Some("hello"));
        let names: Vec<&str> = m.message_attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["ApproximateReceiveCount", "SentTimestamp", "blob", "colour"]);
        assert!(m.message_attributes[0].data_type.is_none());
        assert_eq!(m.message_attributes[2].data_type.as_deref(), Some("Binary"));
        assert!(matches!(&m.message_attributes[2].value, MessageAttributeValue::Binary(b) if b == &[1, 2]));
        assert!(matches!(&m.message_attributes[3].value, MessageAttributeValue::Str(s) if s == "blue"));
    }

    #[test]
    fn empty_message_has_no_id_or_body() {
        let m = to_guest(&SqsMessage::builder().build());
        assert!(m.id.is_none() && m.body.is_none() && m.message_attributes.is_empty());
        assert_eq!(display_id(&SqsMessage::builder().build()), UNKNOWN_ID);
    }
}
