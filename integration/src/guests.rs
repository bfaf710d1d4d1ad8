//! The guest apps built by `integration/guests/build.sh` (real SDK output).

use std::path::PathBuf;

/// The directory of built guests (`SPIN_TEST_GUESTS`, default `/var/tmp/css-guests`).
pub fn guests_dir() -> PathBuf {
    std::env::var_os("SPIN_TEST_GUESTS").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/var/tmp/css-guests"))
}

/// The app directory of guest `name`; panics with a hint when it was not built.
pub fn app(name: &str) -> PathBuf {
    let dir = guests_dir().join(name);
    assert!(
        dir.join("spin.toml").is_file(),
        "guest {name} not built at {}: run `bash integration/guests/build.sh`",
        dir.display()
    );
    dir
}
