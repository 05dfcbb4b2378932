//! Thousands of short-lived threads (`lmlog-scenario thread-churn`: 2,000
//! threads, 50 alive at a time, 100 events each): every event is in the
//! file exactly once, attributed to its own thread, nothing is lost, and
//! the process's peak resident memory stays bounded by the threads alive
//! at once, not by the threads ever created.

use lmlog_decode::{Decoder, Item, Visitor};

use crate::support::{scenario_output_within_watchdog, TempDir};

/// Of `lmlog-scenario thread-churn`.
const THREADS: usize = 2000;
const EVENTS: usize = 100;
/// The most the scenario's process may hold resident at its peak: 50
/// threads' largest staging rings (1 MiB each) and the process itself.
/// (Measured: about 72 MiB; 609 to 746 MiB before rings grew on demand.)
const PEAK_RESIDENT_KIB: u64 = 128 << 10;

/// Picks the `worker` and `seq` fields of a `churn` event.
#[derive(Default)]
struct WorkerSeq {
    field: &'static str,
    worker: Option<u64>,
    seq: Option<u64>,
}

impl Visitor<'_> for WorkerSeq {
    fn field(&mut self, name: &str) {
        self.field = match name {
            "worker" => "worker",
            "seq" => "seq",
            _ => "",
        };
    }

    fn u64(&mut self, v: u64) {
        match self.field {
            "worker" => self.worker = Some(v),
            "seq" => self.seq = Some(v),
            _ => {}
        }
    }
}

#[test]
fn every_event_of_thousands_of_short_lived_threads_is_written_once() {
    let dir = TempDir::new("thread-churn");
    let path = dir.path().join("churn.lmlog");
    let peak_kib: u64 =
        scenario_output_within_watchdog(&["thread-churn", path.to_str().unwrap()]).trim().parse().unwrap();
    println!("thread churn: peak resident memory {} MiB", peak_kib / 1024);
    assert!(peak_kib <= PEAK_RESIDENT_KIB, "peak resident memory {} MiB", peak_kib / 1024);

    let mut seen = vec![[0u8; EVENTS]; THREADS];
    let mut others = Vec::new();
    let mut decoder = Decoder::new(lmlog_decode::from_fn(|item| {
        let Item::Event(event) = item else { return };
        if event.event_type() != "churn" {
            others.push(event.event_type().to_owned());
            return;
        }
        let thread = event.thread.and_then(|t| t.name).map(str::to_owned);
        let mut fields = WorkerSeq::default();
        event.fields.visit(&mut fields).expect("the fields decode");
        let (worker, seq) = (fields.worker.unwrap() as usize, fields.seq.unwrap() as usize);
        assert_eq!(thread, Some(format!("churn-{worker}")), "worker {worker}'s event {seq} on another thread");
        seen[worker][seq] += 1;
    }));
    decoder.feed(&std::fs::read(&path).unwrap()).unwrap();
    let summary = decoder.finish().unwrap();
    assert!(summary.is_clean() && summary.clean_end, "{:?}", summary.diagnostics);
    assert_eq!(others, Vec::<String>::new(), "no drop or loss report");
    for (worker, events) in seen.iter().enumerate() {
        for (seq, &count) in events.iter().enumerate() {
            assert_eq!(count, 1, "worker {worker}, event {seq}");
        }
    }
}
