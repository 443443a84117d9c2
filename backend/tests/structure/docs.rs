//! Every configuration example in the README and the runbook loads, exactly as printed, with the
//! configuration loader `wns serve` uses: a reader who copies one gets a working file.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the backend sits in the repository").to_path_buf()
}

/// The ```toml blocks of a Markdown file: (line of the opening fence, text).
fn toml_blocks(markdown: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (n, line) in markdown.lines().enumerate() {
        match open.as_mut() {
            None if line.trim_start().starts_with("```toml") => open = Some((n + 1, String::new())),
            None => {}
            Some(_) if line.trim_start().starts_with("```") => blocks.push(open.take().expect("open")),
            Some((_, text)) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    assert!(open.is_none(), "a ```toml block is not closed");
    blocks
}

#[test]
fn every_configuration_example_in_the_readme_and_the_runbook_loads_as_printed() {
    let dir = std::env::temp_dir().join(format!("wns-doc-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut loaded = 0;
    for doc in ["README.md", "docs/runbook.md"] {
        let text = std::fs::read_to_string(repo().join(doc)).unwrap();
        for (line, block) in toml_blocks(&text) {
            let file = dir.join(format!("{}-{line}.toml", doc.replace('/', "-")));
            std::fs::write(&file, &block).unwrap();
            if let Err(e) = wns::config::Settings::load(Some(&file), Vec::<(String, String)>::new()) {
                panic!("{doc}, the example at line {line} does not load: {e}");
            }
            loaded += 1;
        }
    }
    assert!(loaded >= 1, "the README's configuration example was found");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_broken_example_would_be_caught() {
    let blocks = toml_blocks("text\n```toml\n[woocommerce]\nwebhook_secret = \"…\"\n```\n");
    assert_eq!(blocks, vec![(2, "[woocommerce]\nwebhook_secret = \"…\"\n".to_string())]);
    let dir = std::env::temp_dir().join(format!("wns-doc-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken.toml");
    std::fs::write(&file, "[woocommerce]\nbase_url = \"https://shop.example\"\nconsumer_key = \"ck_1\"\nconsumer_secret = \"cs_1\"\nwebhook_secret = \"…\"\npublic_url = \"https://wns.example\"\n").unwrap();
    let e = wns::config::Settings::load(Some(&file), Vec::<(String, String)>::new()).unwrap_err();
    assert!(e.to_string().contains("webhook_secret"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
