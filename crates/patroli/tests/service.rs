//! The data-directory subcommands as an operator runs them: user add, token create, import, audit
//! verify, network, evidence verify, and the demo server answering on its printed URL.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

fn patroli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_patroli"))
}

fn run_with_stdin(args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = patroli()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn operator_sets_up_users_tokens_and_imports_posts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();

    let out = run_with_stdin(
        &[
            "user",
            "add",
            "--data",
            data,
            "--username",
            "ana.kaltara",
            "--role",
            "analyst",
            "--agency",
            "bpom",
            "--region",
            "65",
            "--password-stdin",
        ],
        "kata-sandi-panjang-1\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ana.kaltara"));

    // A duplicate user name is refused with a message, not a crash.
    let out = run_with_stdin(
        &[
            "user",
            "add",
            "--data",
            data,
            "--username",
            "ana.kaltara",
            "--role",
            "analyst",
            "--agency",
            "BPOM",
            "--password-stdin",
        ],
        "kata-sandi-panjang-1\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).to_lowercase().contains("taken"),
        "{}",
        text(&out.stderr)
    );

    // A bad role fails before reading the password.
    let out = run_with_stdin(
        &[
            "user",
            "add",
            "--data",
            data,
            "--username",
            "x1",
            "--role",
            "boss",
            "--agency",
            "BPOM",
            "--password-stdin",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("analyst"),
        "{}",
        text(&out.stderr)
    );

    let out = patroli()
        .args(["token", "create", "--data", data, "--platform", "tokopedia"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let token = stdout.lines().last().unwrap();
    assert!(
        !token.contains(' ') && token.len() >= 32,
        "token line: {token:?}"
    );

    let posts = dir.path().join("posts.jsonl");
    std::fs::write(
        &posts,
        concat!(
            r#"{"id":"p1","text":"jual sabu ready, pil double L 100 butir, WA 0812-3456-7890","location":"Tanjung Selor"}"#,
            "\n",
            "this is not json\n",
            r#"{"id":"p2","text":"Kaos polos cotton combed ukuran L dan XL, ready stock"}"#,
            "\n",
            r#"{"id":"p3"}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = patroli()
        .args([
            "import",
            posts.to_str().unwrap(),
            "--platform",
            "tokopedia",
            "--data",
            data,
        ])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 2:"), "{stderr}");
    assert!(stderr.contains("line 4:"), "{stderr}");
    assert!(
        stderr.contains("imported 2, flagged 1, rejected 2"),
        "{stderr}"
    );

    // Re-importing the same posts stores no duplicates; the network query finds the seller by a
    // differently written number.
    let out = patroli()
        .args([
            "import",
            posts.to_str().unwrap(),
            "--platform",
            "tokopedia",
            "--data",
            data,
        ])
        .output()
        .unwrap();
    assert!(text(&out.stderr).contains("imported 2"));
    let out = patroli()
        .args(["network", "--contact", "+62 812 3456 7890", "--data", data])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["readings"][0], "phone:+6281234567890");
    // Two sellers sharing one number, written as an e-wallet by one and a WhatsApp link by the
    // other: each way of typing it finds the network of both.
    let linked = dir.path().join("linked.jsonl");
    std::fs::write(
        &linked,
        concat!(
            r#"{"id":"n1","text":"Bayar via DANA 0813-1111-2222 a.n. Budi","account":"toko_a"}"#,
            "\n",
            r#"{"id":"n2","text":"Order langsung chat wa.me/6281311112222","account":"toko_b"}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = patroli()
        .args([
            "import",
            linked.to_str().unwrap(),
            "--platform",
            "tokopedia",
            "--data",
            data,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for typed in [
        "dana 0813 1111 2222",
        "DANA:0813-1111-2222",
        "wa.me/6281311112222",
        "+62 813-1111-2222",
    ] {
        let out = patroli()
            .args(["network", "--contact", typed, "--data", data])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut handles: Vec<&str> = answer["networks"][0]["accounts"]
            .as_array()
            .unwrap_or_else(|| panic!("{typed}: {answer}"))
            .iter()
            .map(|a| a["handle"].as_str().unwrap())
            .collect();
        handles.sort();
        assert_eq!(handles, ["toko_a", "toko_b"], "{typed}: {answer}");
    }
    // Nothing readable: refused naming the field, like the API's 400.
    let out = patroli()
        .args(["network", "--contact", "halo kak apa kabar", "--data", data])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`contact`") && stderr.contains("@handle"),
        "{stderr}"
    );

    let out = patroli()
        .args(["audit", "verify", "--data", data])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("intact"));
}

#[test]
fn evidence_verify_rejects_a_file_that_is_not_a_package() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bukti.zip");
    std::fs::write(&path, b"PK\x03\x04 not really a zip").unwrap();
    let out = patroli()
        .args(["evidence", "verify", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("NOT intact"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn demo_serves_the_sample_and_prints_logins() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = patroli()
        .args([
            "demo",
            "--explain",
            "0",
            "--data",
            dir.path().join("demo").to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = String::new();
    // Wait on readiness: the URL line is printed once the listener is bound.
    let addr = loop {
        let line = lines
            .next()
            .expect("demo ended before printing its URL")
            .unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(rest) = line.strip_prefix("Open http://") {
            break rest.split('/').next().unwrap().to_string();
        }
    };
    for line in lines.by_ref().take(5) {
        printed.push_str(&line.unwrap());
        printed.push('\n');
    }
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(printed.contains("posts loaded"), "{printed}");
    assert!(printed.contains("analis.kaltara"), "{printed}");
}
