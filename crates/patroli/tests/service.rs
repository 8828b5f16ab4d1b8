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

/// A package of two evidence items as the server exports it, and the same package with one byte
/// of the screenshot changed (re-zipped, so only the content check can notice).
fn evidence_packages() -> (Vec<u8>, Vec<u8>, String) {
    use patroli_core::evidence::{EvidenceItem, PackageInput, PartInput, build_package};
    use patroli_core::{CaseId, EvidenceId};
    let case = CaseId(uuid::Uuid::from_u128(0xCA5E));
    let at = time::OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap();
    let snapshot = br#"{"text":"jual pil koplo"}"#;
    let screenshot = b"\x89PNG screenshot bytes";
    let first = EvidenceItem::capture(
        EvidenceId(uuid::Uuid::from_u128(1)),
        case,
        None,
        "analis",
        at,
        "temuan dikonfirmasi",
        &[PartInput {
            name: "post.json",
            media_type: "application/json",
            bytes: snapshot,
        }],
    )
    .unwrap();
    let second = EvidenceItem::capture(
        EvidenceId(uuid::Uuid::from_u128(2)),
        case,
        Some(&first),
        "penyidik",
        at,
        "tangkapan layar",
        &[PartInput {
            name: "layar.png",
            media_type: "image/png",
            bytes: screenshot,
        }],
    )
    .unwrap();
    let head = second.hash.clone();
    let items = [first, second];
    let files = [
        (items[0].id, "post.json", &snapshot[..]),
        (items[1].id, "layar.png", &screenshot[..]),
    ];
    let good = build_package(&PackageInput {
        case_id: case,
        case_title: "Pil koplo",
        exported_by: "penyidik",
        exported_at: at,
        items: &items,
        files: &files,
        custody: &[],
    })
    .unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&good)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let name = f.name().to_string();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        if name.ends_with("layar.png") {
            data[3] ^= 0x01;
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&data).unwrap();
    }
    let bad = out.finish().unwrap().into_inner();
    (good, bad, head)
}

#[test]
fn evidence_verify_passes_an_intact_package_and_names_an_altered_file() {
    let dir = tempfile::tempdir().unwrap();
    let (good, bad, head) = evidence_packages();
    let good_path = dir.path().join("bukti.zip");
    let bad_path = dir.path().join("bukti-diubah.zip");
    std::fs::write(&good_path, good).unwrap();
    std::fs::write(&bad_path, bad).unwrap();

    let out = patroli()
        .args(["evidence", "verify", good_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("intact") && stdout.contains(&head),
        "{stdout}"
    );
    assert!(stdout.contains("2 evidence item(s)"), "{stdout}");

    let out = patroli()
        .args(["evidence", "verify", bad_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("NOT intact"), "{stderr}");
    assert!(
        stderr.contains("layar.png"),
        "the altered file is named: {stderr}"
    );
}

#[test]
fn serve_refuses_a_webhooks_file_with_a_mistake() {
    let dir = tempfile::tempdir().unwrap();
    let hooks = dir.path().join("webhooks.toml");
    std::fs::write(
        &hooks,
        "[toko]\nurl = \"http://hooks.example/p\"\nsecrett = \"k\"\n",
    )
    .unwrap();
    let out = patroli()
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("data"))
        .arg("--webhooks")
        .arg(&hooks)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("webhooks.toml") && stderr.contains("secrett"),
        "{stderr}"
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
