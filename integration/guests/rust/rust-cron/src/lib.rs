//! A cron component (`fermyon:spin-cron@2.0.0`, world `spin-cron`): prints
//! `cron tick <timestamp>` for every scheduled call. With the component
//! environment variable `CRON_SLEEP_MS=<ms>` it then sleeps that long and prints
//! `cron done <timestamp>`; with `CRON_FAIL=1` it then returns an error.

wit_bindgen::generate!({
    world: "spin-cron",
    path: "wit",
    exports: {
        world: CronTick,
    },
});

struct CronTick;

impl Guest for CronTick {
    fn handle_cron_event(metadata: Metadata) -> Result<(), Error> {
        println!("cron tick {}", metadata.timestamp);
        if let Some(ms) = std::env::var("CRON_SLEEP_MS").ok().and_then(|v| v.parse().ok()) {
            std::thread::sleep(std::time::Duration::from_millis(ms));
            println!("cron done {}", metadata.timestamp);
        }
        if std::env::var("CRON_FAIL").as_deref() == Ok("1") {
            return Err(Error::Other(format!("asked to fail at {}", metadata.timestamp)));
        }
        Ok(())
    }
}
