//! Screen JSON Lines from stdin (`{"id", "text", "title"?}`) and print one compact JSON verdict per
//! line: `{"id","flagged","categories","score","reasons":[rule, matched]...}`. Used by
//! `scripts/eval-shared.sh`; the real CLI is `patroli scan`.

use patroli_detect::{Engine, Post};
use std::io::{BufRead, BufWriter, Write};

fn main() {
    let engine = Engine::builtin();
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for line in stdin.lock().lines() {
        let Ok(line) = line else { continue };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let text = v["text"].as_str().unwrap_or("");
        let title = v["title"].as_str();
        let s = engine.screen(&Post {
            text,
            title,
            ..Post::default()
        });
        let reasons: Vec<(String, String)> = s
            .reasons
            .iter()
            .filter(|r| r.weight > 0.0)
            .map(|r| (r.rule.clone(), r.matched.clone()))
            .collect();
        let verdict = serde_json::json!({
            "id": v["id"],
            "flagged": s.flagged,
            "categories": s.categories,
            "score": s.score,
            "reasons": reasons,
        });
        writeln!(out, "{verdict}").expect("stdout");
    }
}
