//! End-to-end tests of the `patroli` binary: real process, real files, real exit codes.
//!
//! They assert structure, line numbers, counts and exit statuses, never that a post is clean: the
//! engine's lexicon evolves, the contract of the command line does not.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const DRUG_TEXT: &str = "jual sabu ready, pil double L 100 butir, WA 0812-3456-7890";

fn patroli() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_patroli"));
    cmd.env_remove("NO_COLOR");
    cmd
}

fn run(args: &[&str]) -> Output {
    patroli().args(args).output().expect("patroli runs")
}

fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = patroli()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("patroli starts");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().expect("patroli finishes")
}

fn write(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn stdout_json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each stdout line is JSON"))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The `scanned X, flagged Y, rejected Z` summary, parsed.
fn summary(out: &Output) -> (u64, u64, u64) {
    let err = stderr(out);
    let line = err
        .lines()
        .rev()
        .find(|l| l.starts_with("scanned "))
        .unwrap_or_else(|| panic!("no summary in stderr: {err}"));
    let nums: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    (nums[0], nums[1], nums[2])
}

fn assert_result_shape(v: &Value) {
    for key in [
        "id",
        "flagged",
        "score",
        "categories",
        "scores",
        "reasons",
        "entities",
        "severity",
        "lexicon_version",
    ] {
        assert!(v.get(key).is_some(), "result lacks `{key}`: {v}");
    }
    assert!(v["flagged"].is_boolean());
    assert!(v["score"].is_number());
    assert!(v["categories"].is_array());
    assert!(v["scores"].is_object());
    assert!(v["reasons"].is_array());
    assert!(v["entities"].is_array());
}

#[test]
fn scan_jsonl_writes_one_result_per_post_in_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = String::new();
    for i in 0..50 {
        let text = if i % 5 == 0 {
            DRUG_TEXT
        } else {
            "kaos polos size L XL, bahan adem"
        };
        input.push_str(&format!(
            "{{\"id\":\"p{i}\",\"text\":\"{text}\",\"platform\":\"shopee\"}}\n"
        ));
    }
    let file = write(dir.path(), "posts.jsonl", input.as_bytes());
    let out = run(&["scan", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let results = stdout_json_lines(&out);
    let ids: Vec<&str> = results.iter().map(|v| v["id"].as_str().unwrap()).collect();
    let expected: Vec<String> = (0..50).map(|i| format!("p{i}")).collect();
    assert_eq!(ids, expected);
    results.iter().for_each(assert_result_shape);
    let flagged = results.iter().filter(|v| v["flagged"] == true).count() as u64;
    assert_eq!(summary(&out), (50, flagged, 0));
    // Every fifth post is an unmistakable drug sale with a phone number.
    for v in results.iter().step_by(5) {
        assert_eq!(v["flagged"], true, "{v}");
        assert!(
            v["categories"]
                .as_array()
                .unwrap()
                .contains(&Value::from("drugs")),
            "{v}"
        );
        let phones: Vec<&Value> = v["entities"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "phone")
            .map(|e| &e["value"])
            .collect();
        assert_eq!(phones, [&Value::from("+6281234567890")], "{v}");
    }
}

#[test]
fn scan_reads_stdin_and_keeps_integer_ids() {
    let out = run_stdin(&["scan", "-"], b"{\"id\":7,\"text\":\"halo kak\"}\n");
    assert_eq!(out.status.code(), Some(0));
    let results = stdout_json_lines(&out);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["id"], 7);
}

#[test]
fn scan_csv_with_header_quoted_newlines_and_account() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "id,title,text,account,account_name,price\n\
               c1,Kaos,\"baris satu\nbaris \"\"dua\"\"\",@toko,Toko A,Rp 150.000\n\
               c2,,kaos polos size L,,,\n\
               c3,,too,many,fields,1,2\n\
               c4,,harga nego,,,murah\n";
    let file = write(dir.path(), "posts.csv", csv.as_bytes());
    let out = run(&["scan", file.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    let ids: Vec<String> = stdout_json_lines(&out)
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["c1", "c2"]);
    // c1 spans lines 2-3, so c3 is on line 5 and c4 on line 6.
    assert!(
        err.contains("line 5: expected 6 CSV fields"),
        "stderr: {err}"
    );
    assert!(
        err.contains("line 6: `price` is not a number"),
        "stderr: {err}"
    );
    assert_eq!(summary(&out).2, 2);
}

#[test]
fn csv_format_flag_overrides_extension_and_header_must_have_text() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "posts.txt", b"id,text\nx1,halo\n");
    let out = run(&["scan", "--input-format", "csv", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stdout_json_lines(&out)[0]["id"], "x1");

    let bad = write(dir.path(), "bad.csv", b"id,body\nx1,halo\n");
    let out = run(&["scan", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no `text` column"),
        "stderr: {}",
        stderr(&out)
    );
}

#[test]
fn bad_lines_are_reported_with_line_numbers_and_the_rest_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let input = [
        r#"{"id":"ok1","text":"halo"}"#,
        r#"{"id":"b2","text":"unterminated"#,
        r#"{"id":"b3"}"#,
        r#"{"text":"no id"}"#,
        r#"{"id":"b5","text":42}"#,
        "",
        r#"{"id":"b7","text":"x","posted_at":"kemarin sore"}"#,
        r#"{"id":"b8","text":"x","labels":"drugs","price":[1]}"#,
        r#"{"id":"ok9","text":"halo lagi","posted_at":"2026-11-25T09:30:00+07:00"}"#,
    ]
    .join("\n");
    let file = write(dir.path(), "mixed.jsonl", input.as_bytes());
    let out = run(&["scan", file.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains("line 2: invalid JSON"), "stderr: {err}");
    assert!(
        err.contains("line 3: missing field `text`"),
        "stderr: {err}"
    );
    assert!(err.contains("line 4: missing field `id`"), "stderr: {err}");
    assert!(err.contains("line 5: invalid type"), "stderr: {err}");
    assert!(err.contains("line 7: `posted_at`"), "stderr: {err}");
    assert!(err.contains("line 8: "), "stderr: {err}");
    assert!(
        !err.contains("line 6"),
        "a blank line is not a record: {err}"
    );
    let ids: Vec<Value> = stdout_json_lines(&out)
        .iter()
        .map(|v| v["id"].clone())
        .collect();
    assert_eq!(ids, ["ok1", "ok9"]);
    assert_eq!((summary(&out).0, summary(&out).2), (2, 6));
}

#[test]
fn invalid_utf8_is_rejected_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = b"{\"id\":\"a\",\"text\":\"halo\"}\n".to_vec();
    input.extend_from_slice(b"{\"id\":\"b\",\"text\":\"ha\xff\xfelo\"}\n");
    input.extend_from_slice(b"{\"id\":\"c\",\"text\":\"halo\"}\n");
    let file = write(dir.path(), "latin1.jsonl", &input);
    let out = run(&["scan", file.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("line 2: invalid UTF-8"), "stderr: {err}");
    assert_eq!(stdout_json_lines(&out).len(), 2);
    assert_eq!(summary(&out), (2, summary(&out).1, 1));
}

#[test]
fn a_line_over_ten_megabytes_is_rejected_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = b"{\"id\":\"before\",\"text\":\"halo\"}\n".to_vec();
    input.extend_from_slice(b"{\"id\":\"huge\",\"text\":\"");
    input.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024 + 10));
    input.extend_from_slice(b"\"}\n{\"id\":\"after\",\"text\":\"halo\"}\n");
    let file = write(dir.path(), "huge.jsonl", &input);
    let out = run(&["scan", file.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(
        err.contains("line 2: line is") && err.contains("limit"),
        "stderr: {err}"
    );
    let ids: Vec<Value> = stdout_json_lines(&out)
        .iter()
        .map(|v| v["id"].clone())
        .collect();
    assert_eq!(ids, ["before", "after"]);
}

#[test]
fn account_may_be_a_handle_or_an_object() {
    let input = concat!(
        r#"{"id":"s","text":"halo","account":"@penjual"}"#,
        "\n",
        r#"{"id":"o","text":"halo","account":{"handle":"penjual","name":"Toko Sehat"}}"#,
        "\n",
        r#"{"id":"n","text":"halo","account":12}"#,
        "\n",
        r#"{"id":"m","text":"halo","account":{"name":"no handle"}}"#,
        "\n",
    );
    let out = run_stdin(&["scan"], input.as_bytes());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    let ids: Vec<Value> = stdout_json_lines(&out)
        .iter()
        .map(|v| v["id"].clone())
        .collect();
    assert_eq!(ids, ["s", "o"]);
    assert!(err.contains("line 3: invalid type"), "stderr: {err}");
    assert!(
        err.contains("line 4: missing field `handle`"),
        "stderr: {err}"
    );
}

#[test]
fn several_files_name_the_file_in_reports() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.jsonl", b"{\"id\":\"a1\",\"text\":\"x\"}\n");
    let b = write(
        dir.path(),
        "b.jsonl",
        b"{\"id\":\"b1\",\"text\":\"x\"}\nnope\n",
    );
    let out = run(&["scan", a.to_str().unwrap(), b.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains(&format!("{}: line 2: invalid JSON", b.display())),
        "stderr: {err}"
    );
    assert_eq!(stdout_json_lines(&out).len(), 2);
}

#[test]
fn only_flagged_and_table_output() {
    let input = format!(
        "{{\"id\":\"d\",\"text\":\"{DRUG_TEXT}\"}}\n{{\"id\":\"c\",\"text\":\"beras 5 kg\"}}\n"
    );
    let all = run_stdin(&["scan"], input.as_bytes());
    let flagged_ids: Vec<Value> = stdout_json_lines(&all)
        .into_iter()
        .filter(|v| v["flagged"] == true)
        .map(|v| v["id"].clone())
        .collect();
    let only = run_stdin(&["scan", "--only-flagged"], input.as_bytes());
    let only_ids: Vec<Value> = stdout_json_lines(&only)
        .iter()
        .map(|v| v["id"].clone())
        .collect();
    assert_eq!(only_ids, flagged_ids);
    assert_eq!(
        summary(&only).0,
        2,
        "filtered posts are still counted as scanned"
    );

    let table = run_stdin(&["scan", "--format", "table"], input.as_bytes());
    assert_eq!(table.status.code(), Some(0));
    let text = String::from_utf8(table.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("ID") && lines[0].contains("SCORE"));
    assert_eq!(lines.len(), 3);
    assert!(lines[1].trim_start().starts_with("1  d"));
    assert!(lines[2].trim_start().starts_with("2  c"));
}

#[test]
fn fatal_errors_exit_one() {
    let missing = run(&["scan", "/nonexistent/posts.jsonl"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("cannot open"));
    let threshold = run_stdin(&["scan", "--threshold", "1.5"], b"");
    assert_eq!(threshold.status.code(), Some(1));
    let usage = run(&["scan", "--no-such-flag"]);
    assert_eq!(
        usage.status.code(),
        Some(1),
        "usage errors must not look like exit 2"
    );
    let help = run(&["scan", "--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("Exit status"));
}

#[test]
fn check_explains_with_brackets_when_not_a_terminal() {
    let out = run(&["check", "--title", "Kaos Polos", DRUG_TEXT]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    for section in [
        "Verdict:",
        "Categories:",
        "Scores:",
        "Title:",
        "Text:",
        "Reasons:",
        "Entities:",
    ] {
        assert!(text.contains(section), "missing {section} in:\n{text}");
    }
    for category in [
        "drugs",
        "unregistered_products",
        "trafficking_recruitment",
        "sexual_exploitation",
    ] {
        assert!(text.contains(category), "missing {category} in:\n{text}");
    }
    assert!(
        !text.contains('\x1b'),
        "no ANSI codes when stdout is a pipe"
    );
    assert!(text.contains("FLAGGED"), "{text}");
    assert!(
        text.contains("[[sabu]]"),
        "the drug term is highlighted:\n{text}"
    );
    assert!(
        text.contains("+6281234567890"),
        "the phone is listed as an entity:\n{text}"
    );
    // The text is shown in full; highlighted spans only add brackets around the original words.
    let shown = text
        .lines()
        .skip_while(|l| *l != "Text:")
        .nth(1)
        .unwrap()
        .trim();
    assert_eq!(shown.replace("[[", "").replace("]]", ""), DRUG_TEXT);
}

#[test]
fn check_reads_stdin_and_prints_json_on_request() {
    let out = run_stdin(&["check", "--json"], DRUG_TEXT.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_result_shape(&v);
    let colored = run(&["check", "--color", "always", DRUG_TEXT]);
    assert!(String::from_utf8_lossy(&colored.stdout).contains("\x1b["));
}

#[test]
fn eval_reports_metrics_for_a_labelled_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = format!(
        "{}\n{}\n{}\n",
        format_args!(r#"{{"id":"e1","text":"{DRUG_TEXT}","labels":["drugs"]}}"#),
        r#"{"id":"e2","text":"open BO ST 300 LT 800 free room","labels":["sexual_exploitation"]}"#,
        r#"{"id":"e3","text":"beras pandan wangi 5 kg","labels":[]}"#,
    );
    let file = write(dir.path(), "labelled.jsonl", input.as_bytes());
    let out = run(&["eval", "--json", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["posts"], 3);
    assert_eq!(v["clean_posts"], 1);
    assert_eq!(v["rejected"], 0);
    for (category, support) in [
        ("drugs", 1),
        ("sexual_exploitation", 1),
        ("unregistered_products", 0),
        ("trafficking_recruitment", 0),
    ] {
        let m = &v["categories"][category];
        assert_eq!(m["support"], support, "{category}: {m}");
        let f1 = m["f1"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&f1));
    }
    assert_eq!(v["categories"]["drugs"]["true_positives"], 1, "{v}");
    // Every listed miss is a post whose prediction differs from its labels.
    for miss in v["posts_missed"].as_array().unwrap() {
        assert_ne!(miss["expected"], miss["got"]);
        assert!(miss["text"].as_str().unwrap().chars().count() <= 80);
    }

    let human = run(&["eval", file.to_str().unwrap()]);
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(text.contains("PRECISION") && text.contains("RECALL") && text.contains("F1"));
    assert!(text.contains("clean flagged"));
}

#[test]
fn eval_rejects_records_without_labels() {
    let input = b"{\"id\":\"a\",\"text\":\"x\",\"labels\":[]}\n{\"id\":\"b\",\"text\":\"x\"}\n";
    let out = run_stdin(&["eval", "--json"], input);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("line 2: missing `labels`"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["posts"], 1);
}

#[test]
fn lexicon_check_names_the_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a_ok.toml", b"[meta]\nversion = \"test-1\"\n");
    write(dir.path(), "b_broken.toml", b"[meta]\nversion = \n");
    let out = run(&["lexicon", "check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("b_broken.toml"), "stderr: {err}");

    let empty = tempfile::tempdir().unwrap();
    let out = run(&["lexicon", "check", empty.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));

    // The same broken directory makes `scan --lexicon` fail before reading input.
    let out = run_stdin(&["scan", "--lexicon", dir.path().to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn builtin_lexicon_checks_clean() {
    let out = run(&["lexicon", "check"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("built-in lexicon: valid"));
}

#[test]
fn demo_prints_a_summary_table() {
    let out = run(&["demo", "--no-serve"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("posts scanned"));
    for category in [
        "drugs",
        "unregistered_products",
        "trafficking_recruitment",
        "sexual_exploitation",
    ] {
        assert!(text.contains(category), "missing {category} in:\n{text}");
    }
}

const TEST_LEXICON: &str = r#"
version = "test-1"
category = "drugs"

[[term]]
id = "test.zorblax"
variants = ["zorblax"]
weight = 0.95
note = "invented word for the CLI test"
"#;

#[test]
fn lexicon_dir_extends_the_builtin_lexicon() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "extra.toml", TEST_LEXICON.as_bytes());
    let check = run(&["lexicon", "check", dir.path().to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "stderr: {}", stderr(&check));
    assert!(String::from_utf8_lossy(&check.stdout).contains("valid"));

    let input = b"{\"id\":\"z\",\"text\":\"jual zorblax murah\"}\n";
    let rules = |out: &Output| -> Vec<String> {
        stdout_json_lines(out)[0]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    let plain = run_stdin(&["scan"], input);
    assert!(!rules(&plain).contains(&"test.zorblax".to_owned()));
    let extended = run_stdin(&["scan", "--lexicon", dir.path().to_str().unwrap()], input);
    assert_eq!(
        extended.status.code(),
        Some(0),
        "stderr: {}",
        stderr(&extended)
    );
    assert!(rules(&extended).contains(&"test.zorblax".to_owned()));
    let v = &stdout_json_lines(&extended)[0];
    assert_eq!(v["flagged"], true, "{v}");
    // The version records both layers, so a finding says which lexicon made it.
    assert!(
        v["lexicon_version"].as_str().unwrap().contains("test-1"),
        "{v}"
    );
}

#[test]
fn lexicon_check_names_file_and_unknown_key() {
    let dir = tempfile::tempdir().unwrap();
    let broken = TEST_LEXICON.replace("weight = 0.95", "weight = 0.95\nwieght_typo = 1");
    write(dir.path(), "typo.toml", broken.as_bytes());
    let out = run(&["lexicon", "check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("typo.toml") && err.contains("wieght_typo"),
        "stderr: {err}"
    );
}

#[test]
fn eval_reads_csv_labels_separated_by_semicolons() {
    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "id,text,labels\nc1,\"{DRUG_TEXT}\",drugs\nc2,beras pandan wangi 5 kg,\nc3,halo,drugs;sexual_exploitation\nc4,halo,narkoba\n"
    );
    let file = write(dir.path(), "labelled.csv", csv.as_bytes());
    let out = run(&["eval", "--json", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "c4 has an unknown label");
    assert!(stderr(&out).contains("line 5: `labels`: unknown category"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["posts"], 3);
    assert_eq!(v["clean_posts"], 1);
    assert_eq!(v["categories"]["drugs"]["support"], 2);
    assert_eq!(v["categories"]["sexual_exploitation"]["support"], 1);
}

#[test]
fn output_does_not_depend_on_the_number_of_threads() {
    let mut input = String::new();
    for i in 0..300 {
        let text = match i % 3 {
            0 => DRUG_TEXT,
            1 => "open BO ST 300 LT 800 free room, WA 0813-2222-1111",
            _ => "kaos polos size LL, bahan double layer",
        };
        input.push_str(&format!("{{\"id\":{i},\"text\":\"{text}\"}}\n"));
    }
    let one = run_stdin(&["scan", "-j", "1"], input.as_bytes());
    let many = run_stdin(&["scan", "-j", "4"], input.as_bytes());
    assert_eq!(one.status.code(), Some(0));
    assert_eq!(stdout_json_lines(&one).len(), 300);
    assert_eq!(one.stdout, many.stdout);
}
