//! The `lmlog-decode` command.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Output, Stdio};

use lmlog_format::types::TypeDesc;
use lmlog_format::varint::push_u64;
use lmlog_format::Level;
use lmlog_tests::synth::*;

use crate::support::decode_command;

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lmlog-decode-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn sample() -> Stream {
    let mut s = Stream::standard();
    s.thread(1, Some("main")).schema(1, "hello", Level::Info, Some("hi {who}"), &[field("who", TypeDesc::Str)]);
    for i in 0..5u64 {
        let mut body = Vec::new();
        let who = format!("user{i}");
        push_u64(&mut body, who.len() as u64);
        body.extend_from_slice(who.as_bytes());
        s.records(1, i * 10, &[Rec::new(1, 0, body)]);
    }
    s.end();
    s
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = decode_command()
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    child.wait_with_output().unwrap()
}

#[test]
fn decodes_a_clean_file() {
    let s = sample();
    let path = temp_path("clean.lmlog");
    std::fs::write(&path, &s.bytes).unwrap();
    let out = run(&[path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let (expected, _) = decode(&s.bytes);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    assert_eq!(expected.lines().count(), 5);
    // Standard input, explicitly and implicitly.
    for args in [&["-"][..], &[][..]] {
        let out = run(args, Some(&s.bytes));
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
    }
    // Output file.
    let json = temp_path("clean.jsonl");
    let out = run(&[path.to_str().unwrap(), "-o", json.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&json).unwrap(), expected);
    // Concatenated files on stdin.
    let mut twice = s.bytes.clone();
    twice.extend_from_slice(&s.bytes);
    let out = run(&[], Some(&twice));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected.repeat(2));
}

#[test]
fn not_an_lmlog_file() {
    let path = temp_path("text.jsonl");
    std::fs::write(&path, b"{\"level\":\"info\"}\n").unwrap();
    let out = run(&[path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err, format!("lmlog-decode: {}: byte 0: not an lmlog file (bad magic bytes)\n", path.display()));

    let mut bytes = lmlog_format::frame::preamble().to_vec();
    bytes[8] = 7;
    let out = run(&[], Some(&bytes));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("lmlog-decode: <stdin>: byte 0: unsupported lmlog format version 7"), "{err}");

    let out = run(&[temp_path("does-not-exist.lmlog").to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("lmlog-decode: cannot open ") && err.lines().count() == 1, "{err}");
}

#[test]
fn damaged_file() {
    let s = sample();
    let mut bytes = s.bytes.clone();
    let (start, end) = s.frames[5]; // the third records frame
    bytes[start + 20] ^= 0x55;
    let path = temp_path("damaged.lmlog");
    std::fs::write(&path, &bytes).unwrap();
    let out = run(&[path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 4);
    assert!(!stdout.contains("user2") && stdout.contains("user4"));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err,
        format!(
            "lmlog-decode: {}: byte {start}: damaged frame (CRC mismatch); skipped {} bytes (1 frame lost) to the next frame\n",
            path.display(),
            end - start
        )
    );
    // --quiet keeps stderr empty, the exit status still reports the damage.
    let out = run(&["--quiet", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.is_empty());
    // Truncated: a one-line diagnostic.
    let out = run(&[], Some(&s.bytes[..s.bytes.len() - 3]));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with("lmlog-decode: <stdin>: byte ") && lines[0].contains(": truncated frame: "), "{err}");
    assert!(lines[1].contains(": note: the stream ends without an end frame"), "{err}");
}

#[test]
fn closed_stdout_is_not_an_error() {
    // Many events, and a reader that goes away immediately.
    let mut s = Stream::standard();
    s.schema(1, "e", Level::Info, None, &[field("x", TypeDesc::U64)]);
    for _ in 0..200 {
        let recs: Vec<Rec> = (0..1000).map(|i| Rec::new(1, 1, vec![(i % 100) as u8])).collect();
        s.records(0, 0, &recs);
    }
    let path = temp_path("big.lmlog");
    std::fs::write(&path, &s.bytes).unwrap();
    let mut child = decode_command().arg(&path).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}
