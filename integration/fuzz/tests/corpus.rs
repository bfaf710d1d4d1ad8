//! Replays every committed corpus file through its target: each input once
//! found a new path (or a crash, now fixed), so each is a regression test.

use std::path::Path;

#[test]
fn every_committed_corpus_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut replayed = 0;
    for (name, target) in spin_fuzz::TARGETS {
        let dir = root.join(name);
        let mut inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        inputs.sort();
        assert!(!inputs.is_empty(), "target {name} has no corpus in {}", dir.display());
        for input in inputs {
            target(&std::fs::read(&input).unwrap());
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} corpus inputs");
}
