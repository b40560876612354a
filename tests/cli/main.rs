//! The `ducha` binary itself: the calendar command contract, and `serve` creating and
//! migrating its SQLite file on first start.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DUCHA: &str = env!("CARGO_BIN_EXE_ducha");

fn ducha(args: &[&str]) -> (String, String, bool) {
    let output = Command::new(DUCHA).args(args).output().expect("ducha runs");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.success(),
    )
}

#[test]
fn calendar_commands_print_exactly_one_answer() {
    assert_eq!(ducha(&["calendar", "is-workday", "2026-10-10"]).0, "true\n");
    assert_eq!(
        ducha(&["calendar", "is-workday", "2026-10-01"]).0,
        "false\n"
    );
    assert_eq!(
        ducha(&["calendar", "add", "2026-09-30", "3"]).0,
        "2026-10-10\n"
    );
    assert_eq!(
        ducha(&["calendar", "add", "2026-10-08", "-1"]).0,
        "2026-09-30\n"
    );
    assert_eq!(
        ducha(&["calendar", "between", "2026-09-30", "2026-10-12"]).0,
        "4\n"
    );
    assert_eq!(
        ducha(&["calendar", "add", "2026-12-31", "3"]).0,
        "2027-01-06 provisional\n"
    );
    let (stdout, stderr, ok) = ducha(&["calendar", "add", "2026-02-30", "3"]);
    assert!(!ok && stdout.is_empty(), "a bad date fails");
    assert!(stderr.starts_with("error: "), "{stderr}");
    // The API's bounds hold on the command line too: no 2410, no 1642, no "unpublished" 2003.
    let refused: [&[&str]; 4] = [
        &["calendar", "add", "2026-10-08", "100000"],
        &["calendar", "add", "2026-10-08", "-100000"],
        &["calendar", "add", "2003-01-01", "1"],
        &["calendar", "is-workday", "2003-05-01"],
    ];
    for args in refused {
        let (stdout, stderr, ok) = ducha(args);
        assert!(!ok && stdout.is_empty(), "{args:?} answered {stdout}");
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
    assert!(
        ducha(&["calendar", "is-workday", "2003-05-01"])
            .1
            .contains("覆盖范围")
    );
}

#[test]
fn eval_answers_line_by_line_and_fails_if_any_line_failed() {
    let mut child = Command::new(DUCHA)
        .args(["calendar", "eval"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"is-workday 2026-10-10\nadd 2026-09-30 x\nbetween 2026-09-30 2026-10-12\nis-workday 2027-01-01\n")
        .expect("write");
    let output = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_eq!(lines[0], "true");
    assert!(lines[1].starts_with("error: "), "{}", lines[1]);
    assert_eq!(lines[2], "4");
    assert_eq!(
        lines[3], "false provisional",
        "元旦 2027 is a day off by law"
    );
    assert!(!output.status.success());

    let clean = Command::new(DUCHA)
        .args(["calendar", "eval"])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(clean.status.success(), "no lines, no failures");
}

/// `ducha serve` on a free port in `dir` (its default SQLite file there), logging at `log`
/// to `stderr`; the child and the address it said it listens on.
fn serve_in(dir: &std::path::Path, log: &str, stderr: Stdio) -> (std::process::Child, String) {
    let mut child = Command::new(DUCHA)
        .arg("serve")
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("DUCHA_DATABASE_URL")
        .env_remove("RUST_LOG")
        .env("DUCHA_LISTEN", "127.0.0.1:0")
        .env("DUCHA_LOG", log)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("spawn ducha serve");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    let started = Instant::now();
    while !line.contains("listening on") && started.elapsed() < Duration::from_secs(30) {
        line.clear();
        if stdout.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
    }
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    // Whatever the server prints later still has a reader.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (child, address)
}

#[test]
fn serve_creates_and_migrates_its_sqlite_file_on_first_start() {
    let dir = std::env::temp_dir().join(format!("ducha-cli-{}-{}", std::process::id(), line!()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (mut child, address) = serve_in(&dir, "warn", Stdio::null());
    let body = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            reqwest::get(format!("http://{address}/healthz"))
                .await
                .expect("healthz reachable")
                .json::<serde_json::Value>()
                .await
                .expect("json")
        });
    child.kill().ok();
    child.wait().ok();
    assert_eq!(body["status"], "ok");
    assert!(
        dir.join("data/ducha.db").exists(),
        "SQLite file created in ./data"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Every log line of a request names its id, and the response carries it: the id a proxy
/// sent, or a new one.
#[test]
fn every_request_has_an_id_in_its_log_lines_and_response() {
    let dir = std::env::temp_dir().join(format!("ducha-cli-{}-{}", std::process::id(), line!()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (mut child, address) = serve_in(&dir, "info", Stdio::piped());
    let (given, fresh) = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            let client = http_client();
            let given = client
                .post(format!("http://{address}/graphql"))
                .header("X-Request-Id", "proxy-7f3a-42")
                .json(&serde_json::json!({ "query": "{ __typename }" }))
                .send()
                .await
                .expect("sent");
            let fresh = client
                .get(format!("http://{address}/healthz"))
                .send()
                .await
                .expect("sent");
            let id = |r: &reqwest::Response| {
                r.headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string()
            };
            (id(&given), id(&fresh))
        });
    // Stopped as a service manager stops it: lines are written in batches a few
    // milliseconds apart, and a graceful stop writes what waits.
    stop_gracefully(&mut child);
    let mut logs = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut logs).ok();
    child.wait().ok();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(given, "proxy-7f3a-42", "a sane id from the caller is kept");
    assert_eq!(fresh.len(), 16, "a new id otherwise: {fresh:?}");
    for id in [&given, &fresh] {
        let lines: Vec<&str> = logs.lines().filter(|l| l.contains(id.as_str())).collect();
        assert!(
            lines.iter().any(|l| l.contains("status=200")),
            "the response's log line names request {id}:\n{logs}"
        );
    }
}

/// SIGTERM, then up to ten seconds for the process to end (killed after that).
fn stop_gracefully(child: &mut std::process::Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().ok();
}

#[test]
fn calendar_import_writes_the_year_into_the_service_database() {
    let dir = std::env::temp_dir().join(format!("ducha-cli-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("2027.json");
    std::fs::write(
        &file,
        r#"{"year": 2027, "papers": [], "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}]}"#,
    )
    .expect("write");
    let run = |args: &[&str]| {
        Command::new(DUCHA)
            .args(args)
            .env("DUCHA_DATA_DIR", &dir)
            .env_remove("DATABASE_URL")
            .env_remove("DUCHA_DATABASE_URL")
            .env("DUCHA_LOG", "warn")
            .output()
            .expect("runs")
    };
    // The mode is asked for, never assumed.
    let unasked = run(&["calendar", "import", file.to_str().expect("utf8 path")]);
    assert!(!unasked.status.success());
    assert!(String::from_utf8_lossy(&unasked.stderr).contains("--mode"));
    let output = run(&[
        "calendar",
        "import",
        "--mode",
        "replace",
        file.to_str().expect("utf8 path"),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("imported 2027"), "{stdout}");
    assert!(dir.join("ducha.db").exists());
    std::fs::write(&file, "{broken").expect("write");
    let refused = run(&[
        "calendar",
        "import",
        "--mode",
        "amend",
        file.to_str().expect("utf8 path"),
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("holiday-cn"));
    // Nobody exists in this database yet (only `serve` creates the first administrator).
    let token = run(&["token", "--person-id", "1"]);
    assert!(!token.status.success());
    assert!(String::from_utf8_lossy(&token.stderr).contains("不存在"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn report_writes_each_format_and_says_when_the_month_was_never_published() {
    let dir = std::env::temp_dir().join(format!("ducha-cli-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let run = |args: &[&str]| {
        Command::new(DUCHA)
            .args(args)
            .env("DUCHA_DATA_DIR", &dir)
            .env_remove("DATABASE_URL")
            .env_remove("DUCHA_DATABASE_URL")
            .env("DUCHA_LOG", "warn")
            .output()
            .expect("runs")
    };
    for (format, starts_with) in [
        ("csv", "\u{feff}排名,单位".as_bytes()),
        ("xlsx", b"PK".as_slice()),
        ("html", b"<!doctype html>".as_slice()),
    ] {
        let output = dir.join(format!("2026-10.{format}"));
        let done = run(&[
            "report",
            "--month",
            "2026-10",
            "--format",
            format,
            "--output",
            output.to_str().expect("utf8 path"),
        ]);
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert!(done.status.success(), "{stderr}");
        assert!(stderr.contains("尚未发布"), "a draft says so: {stderr}");
        assert!(
            String::from_utf8_lossy(&done.stdout).contains("2026年10月督查工作通报（草稿）"),
            "{}",
            String::from_utf8_lossy(&done.stdout)
        );
        let bytes = std::fs::read(&output).expect("written");
        assert!(bytes.starts_with(starts_with), "{format}");
    }
    let refused = run(&["report", "--month", "2026-13", "--output", "x.html"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("YYYY-MM"));
    // A report has no side effects: no administrator was created.
    let token = run(&["token", "--person-id", "1"]);
    assert!(!token.status.success());
    std::fs::remove_dir_all(&dir).ok();
}

/// A client for the tests: the TLS provider installed first (`channels::install_crypto`;
/// cargo builds one reqwest for the whole workspace, without a provider of its own).
fn http_client() -> reqwest::Client {
    ducha_server::channels::install_crypto();
    reqwest::Client::new()
}
