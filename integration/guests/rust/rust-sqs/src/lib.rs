//! An SQS component (`fermyon:spin-sqs@2.0.0`, world `spin-sqs`): prints
//! `sqs: <body>` for every message, then acts on the body:
//! `trap` panics (the guest traps), `leave` leaves the message on the queue,
//! `sleep <ms>` sleeps that long and then asks for deletion, and anything else
//! asks for deletion at once.

wit_bindgen::generate!({
    world: "spin-sqs",
    path: "wit",
    exports: {
        world: QueueHandler,
    },
});

struct QueueHandler;

impl Guest for QueueHandler {
    fn handle_queue_message(message: Message) -> Result<MessageAction, Error> {
        let body = message.body.unwrap_or_default();
        println!("sqs: {body}");
        if body == "trap" {
            panic!("trap requested by the message body");
        }
        if body == "leave" {
            return Ok(MessageAction::Leave);
        }
        if let Some(ms) = body.strip_prefix("sleep ") {
            let ms: u64 = ms.trim().parse().map_err(|_| Error::Other(format!("bad sleep time {ms:?}")))?;
            std::thread::sleep(std::time::Duration::from_millis(ms));
            println!("sqs: done {body}");
        }
        Ok(MessageAction::Delete)
    }
}
