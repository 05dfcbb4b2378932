//! The file sink on a real filesystem, driven through the `Sink` trait as
//! the writer drives it: appending, continuing a rotated series, size and
//! time rotation, retention. (What needs `init`, such as file modes under a
//! umask, runs in child processes in the `tests` crate.)

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lmlog::{FileOptions, FileSink, Sink};

/// A fresh directory for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("lmlog-file-sink-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// The names in the directory, sorted.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<_> =
            std::fs::read_dir(&self.0).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn closed(index: u32) -> String {
    format!("app.lmlog.{index:010}")
}

fn len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

/// Sets a file's modification time to `age` ago.
fn age(path: &Path, age: Duration) {
    File::options().append(true).open(path).unwrap().set_modified(SystemTime::now() - age).unwrap();
}

/// A frame-sized chunk of `len` bytes of `fill`.
fn frame(len: usize, fill: u8) -> Vec<u8> {
    vec![fill; len]
}

#[test]
fn a_reopened_file_is_appended_to_and_its_room_counts_what_it_holds() {
    let dir = TempDir::new("append");
    let path = dir.join("app.lmlog");
    let options = FileOptions::new().max_file_bytes(10_000);
    let mut sink = FileSink::open(&path, &options).unwrap();
    assert_eq!(sink.room(), Some(10_000));
    sink.write_all(&frame(3000, b'a')).unwrap();
    drop(sink);
    let mut sink = FileSink::open(&path, &options).unwrap();
    assert_eq!(sink.room(), Some(7000));
    assert_eq!(sink.file_index(), 0);
    sink.write_all(&frame(1000, b'b')).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), [frame(3000, b'a'), frame(1000, b'b')].concat());
    assert_eq!(FileSink::open(&path, &FileOptions::new()).unwrap().room(), None, "no size limit, no room");
}

#[test]
fn truncate_empties_only_the_live_file() {
    let dir = TempDir::new("truncate");
    let path = dir.join("app.lmlog");
    std::fs::write(dir.join(&closed(4)), b"closed").unwrap();
    std::fs::write(&path, b"previous run").unwrap();
    let sink = FileSink::open(&path, &FileOptions::new().truncate(true)).unwrap();
    assert_eq!(len(&path), 0);
    assert_eq!(std::fs::read(dir.join(&closed(4))).unwrap(), b"closed");
    assert_eq!(sink.file_index(), 5, "the index continues after the closed files");
}

/// Writes frames as the writer does: before a frame that does not fit in
/// the sink's room, it rotates (unless the file is empty). After each
/// write, the room is what the file on disk leaves.
#[test]
fn size_rotation_before_a_frame_that_does_not_fit() {
    let dir = TempDir::new("size");
    let path = dir.join("app.lmlog");
    let max = 8192;
    let mut sink = FileSink::open(&path, &FileOptions::new().max_file_bytes(max)).unwrap();
    let mut expected_files: Vec<Vec<u8>> = vec![Vec::new()];
    let mut seed = 7u32;
    for n in 0..300u32 {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        // Mostly small frames, now and then one larger than a whole file.
        let size = if n % 97 == 50 { 10_000 } else { 18 + (seed >> 16) as usize % 1500 };
        let bytes = frame(size, n as u8);
        if sink.room().is_some_and(|room| size as u64 > room) && len(&path) > 0 {
            assert_eq!(sink.file_index() as usize, expected_files.len() - 1);
            sink.rotate().unwrap();
            expected_files.push(Vec::new());
            assert_eq!(len(&path), 0);
        }
        sink.write_all(&bytes).unwrap();
        expected_files.last_mut().unwrap().extend_from_slice(&bytes);
        assert_eq!(sink.room(), Some(max.saturating_sub(len(&path))));
        assert_eq!(sink.wants_rotation(), len(&path) >= max);
    }
    assert!(expected_files.len() > 20);
    let live = expected_files.pop().unwrap();
    let mut names = vec!["app.lmlog".to_string()];
    names.extend((0..expected_files.len() as u32).map(closed));
    assert_eq!(dir.names(), names);
    for (index, expected) in expected_files.iter().enumerate() {
        let content = std::fs::read(dir.join(&closed(index as u32))).unwrap();
        assert_eq!(&content, expected);
        // Within the limit, or a single frame larger than it.
        assert!(content.len() as u64 <= max || content.iter().all(|&b| b == content[0]), "file {index}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), live);
}

#[test]
fn a_restart_continues_the_series_and_changes_no_closed_file() {
    let dir = TempDir::new("restart");
    let path = dir.join("app.lmlog");
    let options = FileOptions::new().max_file_bytes(4096);
    let mut sink = FileSink::open(&path, &options).unwrap();
    for round in 0..3u8 {
        sink.write_all(&frame(100, round)).unwrap();
        sink.rotate().unwrap();
    }
    sink.write_all(&frame(100, 3)).unwrap();
    assert_eq!(sink.file_index(), 3);
    drop(sink);
    let before: Vec<_> = (0..3).map(|i| std::fs::read(dir.join(&closed(i))).unwrap()).collect();
    // The next run appends to the live file (index 3), then closes it as 3.
    let mut sink = FileSink::open(&path, &options).unwrap();
    assert_eq!(sink.file_index(), 3);
    sink.write_all(&frame(100, 4)).unwrap();
    sink.rotate().unwrap();
    assert_eq!(sink.file_index(), 4);
    let after: Vec<_> = (0..3).map(|i| std::fs::read(dir.join(&closed(i))).unwrap()).collect();
    assert_eq!(before, after);
    assert_eq!(std::fs::read(dir.join(&closed(3))).unwrap(), [frame(100, 3), frame(100, 4)].concat());
    assert_eq!(dir.names(), ["app.lmlog", &closed(0), &closed(1), &closed(2), &closed(3)]);
    assert_eq!(len(&path), 0);
}

#[test]
fn a_full_or_outdated_live_file_is_closed_when_opened() {
    let dir = TempDir::new("reopen-full");
    let path = dir.join("app.lmlog");
    std::fs::write(&path, frame(5000, 1)).unwrap();
    let sink = FileSink::open(&path, &FileOptions::new().max_file_bytes(4096)).unwrap();
    assert_eq!((sink.file_index(), sink.room()), (1, Some(4096)));
    assert_eq!(std::fs::read(dir.join(&closed(0))).unwrap(), frame(5000, 1));

    // Last written two hours ago, rotated hourly: it belongs to an earlier hour.
    std::fs::write(&path, frame(10, 2)).unwrap();
    age(&path, Duration::from_secs(2 * 3600));
    let sink = FileSink::open(&path, &FileOptions::new().rotate_every(Duration::from_secs(3600))).unwrap();
    assert_eq!(sink.file_index(), 2);
    assert_eq!(std::fs::read(dir.join(&closed(1))).unwrap(), frame(10, 2));

    // Written in the current period: appended to.
    std::fs::write(&path, frame(10, 3)).unwrap();
    let sink = FileSink::open(&path, &FileOptions::new().rotate_every(Duration::from_secs(365 * 86_400))).unwrap();
    assert_eq!(sink.file_index(), 2);
    assert_eq!(len(&path), 10);
}

/// The sink's period boundaries are multiples of the period since the
/// epoch: whenever it says no, the time read before asking is still in
/// the period it opened in; whenever it says yes, the time read after
/// asking is in a later one.
#[test]
fn time_rotation_at_multiples_of_the_period() {
    let dir = TempDir::new("time");
    let path = dir.join("app.lmlog");
    let period = Duration::from_millis(50);
    let period_of = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_nanos() / period.as_nanos();
    let before_open = period_of(SystemTime::now());
    let mut sink = FileSink::open(&path, &FileOptions::new().rotate_every(period)).unwrap();
    let mut opened = (before_open, period_of(SystemTime::now()));
    let mut rotations = 0;
    let mut noes = 0u64;
    while rotations < 4 {
        sink.write_all(b"frame").unwrap();
        let asked = period_of(SystemTime::now());
        let wants = sink.wants_rotation();
        let answered = period_of(SystemTime::now());
        if wants {
            assert!(answered > opened.0, "rotation wanted in the period the file was opened in");
            let before = period_of(SystemTime::now());
            sink.rotate().unwrap();
            opened = (before, period_of(SystemTime::now()));
            rotations += 1;
        } else {
            assert!(asked <= opened.1, "no rotation wanted after the period was over");
            noes += 1;
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    assert!(noes > 0);
    assert_eq!(dir.names(), ["app.lmlog", &closed(0), &closed(1), &closed(2), &closed(3)]);
}

#[test]
fn retention_by_count_age_and_total_bytes() {
    let dir = TempDir::new("retention");
    let path = dir.join("app.lmlog");
    // Closed files 0..=5 of 1000 bytes, written 6, 5, ... 1 days ago.
    for index in 0..6u32 {
        let file = dir.join(&closed(index));
        std::fs::write(&file, frame(1000, index as u8)).unwrap();
        age(&file, Duration::from_secs(86_400 * (6 - index as u64)));
    }
    // Not of the series: never counted, never deleted.
    let strangers = ["app.lmlog.1", "app.lmlog.bak", "app.lmlog.0000000001.gz", "other.lmlog.0000000000"];
    for name in strangers {
        std::fs::write(dir.join(name), frame(5000, 0)).unwrap();
        age(&dir.join(name), Duration::from_secs(86_400 * 30));
    }
    let day = Duration::from_secs(86_400);
    let series = |dir: &TempDir| -> Vec<String> {
        dir.names().into_iter().filter(|name| name.len() == "app.lmlog.".len() + 10).collect()
    };

    // By age, when the output is opened: older than 4.5 days goes.
    let sink = FileSink::open(&path, &FileOptions::new().retain_max_age(day * 9 / 2)).unwrap();
    assert_eq!(series(&dir), [closed(2), closed(3), closed(4), closed(5)]);
    assert_eq!(sink.file_index(), 6);
    drop(sink);

    // By total bytes of closed files, after a rotation: the live file's
    // 1500 bytes become closed file 6; 3000 bytes keep 6 and 5.
    let mut sink = FileSink::open(&path, &FileOptions::new().retain_max_bytes(3000)).unwrap();
    assert_eq!(series(&dir), [closed(3), closed(4), closed(5)], "3 × 1000 bytes fit");
    sink.write_all(&frame(1500, 6)).unwrap();
    sink.rotate().unwrap();
    assert_eq!(series(&dir), [closed(5), closed(6)]);
    drop(sink);

    // By count: rotate(max, keep) keeps `keep` closed files.
    let mut sink = FileSink::open(&path, &FileOptions::new().max_file_bytes(4096).retain_max_files(1)).unwrap();
    sink.rotate().unwrap();
    assert_eq!(series(&dir), [closed(7)]);
    drop(sink);
    let mut sink = FileSink::open(&path, &FileOptions::new().retain_max_files(0)).unwrap();
    sink.write_all(b"dropped at once").unwrap();
    sink.rotate().unwrap();
    assert!(series(&dir).is_empty());
    assert_eq!(sink.file_index(), 9);
    for name in strangers {
        assert_eq!(len(&dir.join(name)), 5000, "{name}");
    }
}

#[test]
fn a_rotation_never_renames_over_a_file() {
    let dir = TempDir::new("no-overwrite");
    let path = dir.join("app.lmlog");
    let mut sink = FileSink::open(&path, &FileOptions::new().max_file_bytes(4096)).unwrap();
    sink.write_all(b"live").unwrap();
    // Another writer took the name this file would be closed under.
    std::fs::write(dir.join(&closed(0)), b"someone else's").unwrap();
    assert_eq!(sink.rotate().unwrap_err().kind(), ErrorKind::AlreadyExists);
    sink.write_all(b" and more").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"live and more");
    assert_eq!(std::fs::read(dir.join(&closed(0))).unwrap(), b"someone else's");
    assert_eq!(sink.file_index(), 0);
}
