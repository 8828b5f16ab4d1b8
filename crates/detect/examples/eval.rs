//! Dev loop: screen a labelled JSONL file and print per-category metrics and the misses.
//!
//! Usage: `cargo run -p patroli-detect --example eval -- samples/dev.jsonl [--threshold 0.5] [--verbose]`
//! Each line: `{"id": "...", "text": "...", "title"?: "...", "labels": ["drugs", ...]}`.

use patroli_detect::eval::{Evaluation, MissKind};
use patroli_detect::{Category, Engine, Post};
use std::collections::HashMap;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .iter()
        .find(|a| !a.starts_with("--") && a.parse::<f32>().is_err())
        .expect("usage: eval FILE.jsonl");
    let threshold = args
        .iter()
        .position(|a| a == "--threshold")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.5);
    let verbose = args.iter().any(|a| a == "--verbose");
    let engine = Engine::builtin().with_threshold(threshold);
    let body = std::fs::read_to_string(path).expect("readable file");
    let mut eval = Evaluation::new();
    let mut posts: HashMap<String, (String, Option<String>, Vec<String>)> = HashMap::new();
    let mut screenings = HashMap::new();
    for (n, line) in body.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("line {}: {e}", n + 1);
                continue;
            }
        };
        let id = v["id"].as_str().unwrap_or("?").to_string();
        let text = v["text"].as_str().unwrap_or("").to_string();
        let title = v["title"].as_str().map(str::to_string);
        let labels: Vec<Category> = v["labels"]
            .as_array()
            .map(|a| a.iter().filter_map(|l| l.as_str()?.parse().ok()).collect())
            .unwrap_or_default();
        let post = Post {
            text: &text,
            title: title.as_deref(),
            ..Post::default()
        };
        let s = engine.screen(&post);
        eval.add(&id, &labels, &s);
        posts.insert(
            id.clone(),
            (
                text.clone(),
                title.clone(),
                labels.iter().map(|c| c.id().to_string()).collect(),
            ),
        );
        screenings.insert(id, s);
    }
    let r = eval.report();
    println!(
        "posts {}  clean {}  clean flagged {} ({:.1}%)  macro F1 {:.3}",
        r.posts,
        r.clean_posts,
        r.clean_flagged,
        100.0 * r.clean_flagged_share,
        r.macro_f1
    );
    println!(
        "{:<26} {:>5} {:>4} {:>4} {:>4} {:>6} {:>6} {:>6}",
        "category", "supp", "tp", "fp", "fn", "prec", "rec", "f1"
    );
    for (c, m) in &r.categories {
        println!(
            "{:<26} {:>5} {:>4} {:>4} {:>4} {:>6.3} {:>6.3} {:>6.3}",
            c.id(),
            m.support,
            m.true_positives,
            m.false_positives,
            m.false_negatives,
            m.precision,
            m.recall,
            m.f1
        );
    }
    println!("misses: {}", r.misses.len());
    for m in &r.misses {
        let kind = if m.kind == MissKind::FalseNegative {
            "FN"
        } else {
            "FP"
        };
        let (text, title, labels) = &posts[&m.id];
        println!(
            "{kind} {} {} score {:.2} labels {:?}",
            m.id, m.category, m.score, labels
        );
        if verbose {
            if let Some(t) = title {
                println!("   title: {t}");
            }
            println!("   text: {text}");
            for rs in &screenings[&m.id].reasons {
                println!(
                    "     {:?} {} {:?} {:+.2} {:?}",
                    rs.kind,
                    rs.rule,
                    rs.matched,
                    rs.weight,
                    rs.category.map(|c| c.id())
                );
            }
        }
    }
}
