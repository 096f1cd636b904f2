//! Tests of `render/emit.rs`: the YAML text.

use super::*;

#[test]
fn the_yaml_quotes_keys_yaml_would_read_otherwise() {
    let stack = serde_json::json!({"version": "3.9", "services": {"a": {"labels": {"yes": "1", "on": "x", "3000": "p", "a b": "c", "x.y/z-w": "ok"}, "command": [], "x": {}, "n": null, "nested": [["a"], {"k": "v", "l": 1}]}}});
    let r = Rendered {
        stack,
        secret_files: Vec::new(),
        builds: Vec::new(),
        findings: Vec::new(),
    };
    assert_eq!(
        r.text(),
        "version: \"3.9\"\nservices:\n  a:\n    command: []\n    labels:\n      \"3000\": \"p\"\n      \"a b\": \"c\"\n      \"on\": \"x\"\n      x.y/z-w: \"ok\"\n      \"yes\": \"1\"\n    \"n\": null\n    nested:\n      - - \"a\"\n      - k: \"v\"\n        l: 1\n    x: {}\n"
    );
}
