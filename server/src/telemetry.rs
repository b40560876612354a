//! Structured logs with `tracing`; the filter comes from settings (`DUCHA_LOG`) or `RUST_LOG`.
//!
//! Every response writes an access line. Written straight from the request's runtime thread,
//! each line was a `write(2)` under stderr's lock: at tens of thousands of responses a
//! second that cost a sixth of the throughput and doubled p99 at 8 connections, a worker
//! descheduled inside the write holding up the other (issue 14, BENCHMARKS.md, seventh
//! round). Handing each line to a writer thread through a channel did not help much: the
//! wake-up per line cost about what the write had. So lines are appended to one buffer, and
//! a writer thread, woken by the first line after it has written, gathers for a few
//! milliseconds and writes what has gathered at once: one wake-up and one system call for
//! a burst, and a quiet server's lines still appear within those milliseconds.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// How long the writer gathers lines after the first one before writing them.
const GATHER: Duration = Duration::from_millis(10);

/// Past this many bytes waiting, a line is written by its own thread, together with all that
/// waits: stderr that cannot keep up slows requests down rather than losing lines or
/// growing without bound.
const MOST_WAITING: usize = 4 * 1024 * 1024;

/// Keeps the log's writer thread; dropping it writes out what is still waiting. Hold it for
/// as long as the process serves.
#[must_use = "dropping the guard stops the log's writer"]
pub struct LogGuard(Option<BatchedLog>);

impl Drop for LogGuard {
    fn drop(&mut self) {
        if let Some(log) = &self.0 {
            log.stop();
        }
    }
}

pub fn init(filter: &str) -> LogGuard {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let writer = BatchedLog::start(Box::new(std::io::stderr()));
    // With a subscriber already installed, this one is not; lines then go to that one.
    // Logs go to stderr, so stdout carries only what the command itself prints.
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer.clone())
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    if installed.is_err() {
        writer.stop();
        return LogGuard(None);
    }
    LogGuard(Some(writer))
}

/// Lines waiting for the writer thread, and whether it should stop.
#[derive(Default)]
struct Waiting {
    bytes: Vec<u8>,
    stopping: bool,
}

struct Shared {
    waiting: Mutex<Waiting>,
    /// Signalled when the first line arrives in an empty buffer, and on stop.
    arrived: Condvar,
    /// Where lines end up (stderr). Always taken after `waiting`, never before.
    sink: Mutex<Box<dyn Write + Send>>,
}

impl Shared {
    /// A writer that panicked mid-append leaves whole lines behind at worst: keep going.
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sink(&self) -> MutexGuard<'_, Box<dyn Write + Send>> {
        self.sink.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A log sink written in batches by one thread (see the module's comment).
#[derive(Clone)]
pub struct BatchedLog {
    shared: Arc<Shared>,
    writer: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl BatchedLog {
    fn start(sink: Box<dyn Write + Send>) -> Self {
        let shared = Arc::new(Shared {
            waiting: Mutex::new(Waiting::default()),
            arrived: Condvar::new(),
            sink: Mutex::new(sink),
        });
        let for_thread = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name("ducha-log".into())
            .spawn(move || write_batches(&for_thread))
            .ok();
        if handle.is_none() {
            // No thread, no batches: every line is then written by its own thread.
            shared.lock().stopping = true;
        }
        Self {
            shared,
            writer: Arc::new(Mutex::new(handle)),
        }
    }

    /// Writes out what waits and ends the writer thread; lines after this are written
    /// directly.
    fn stop(&self) {
        self.shared.lock().stopping = true;
        self.shared.arrived.notify_one();
        let handle = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        // What a writer thread that died (or never started) left behind.
        let mut waiting = self.shared.lock();
        if !waiting.bytes.is_empty() {
            let mut sink = self.shared.sink();
            let _ = sink.write_all(&waiting.bytes);
            let _ = sink.flush();
            waiting.bytes.clear();
        }
    }

    fn append(&self, line: &[u8]) {
        let mut waiting = self.shared.lock();
        if waiting.stopping || waiting.bytes.len() + line.len() > MOST_WAITING {
            let mut sink = self.shared.sink();
            let _ = sink.write_all(&waiting.bytes);
            let _ = sink.write_all(line);
            let _ = sink.flush();
            waiting.bytes.clear();
            return;
        }
        let was_empty = waiting.bytes.is_empty();
        waiting.bytes.extend_from_slice(line);
        drop(waiting);
        if was_empty {
            self.shared.arrived.notify_one();
        }
    }
}

/// The writer thread: sleeps until a line arrives, gathers for [`GATHER`], writes the
/// batch outside the lock, and on stop writes what is left.
fn write_batches(shared: &Shared) {
    let mut batch = Vec::new();
    loop {
        let mut waiting = shared.lock();
        while waiting.bytes.is_empty() && !waiting.stopping {
            waiting = shared
                .arrived
                .wait(waiting)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let stopping = waiting.stopping;
        if !stopping {
            drop(waiting);
            std::thread::sleep(GATHER);
            waiting = shared.lock();
        }
        // The emptied buffer keeps the last batch's capacity for the next one. The sink is
        // taken before the buffer is let go (the order `append` takes them in too), so a
        // line written directly never overtakes the batch before it.
        std::mem::swap(&mut batch, &mut waiting.bytes);
        let mut sink = shared.sink();
        drop(waiting);
        let _ = sink.write_all(&batch);
        let _ = sink.flush();
        drop(sink);
        batch.clear();
        if stopping {
            return;
        }
    }
}

/// An event's line goes to the buffer as fmt writes it: fmt formats each event whole and
/// hands it over in one `write_all`, which is one `write` here, so lines never interleave.
pub struct LineWriter<'a>(&'a BatchedLog);

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedLog {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink the test can read while the log writes to it.
    #[derive(Clone, Default)]
    struct Shelf(Arc<Mutex<Vec<u8>>>);

    impl Write for Shelf {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shelf {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner))
                .into_owned()
        }
    }

    fn line(log: &BatchedLog, text: &str) {
        log.make_writer()
            .write_all(text.as_bytes())
            .expect("a line is taken");
    }

    #[test]
    fn every_line_arrives_whole_and_in_each_threads_order() {
        let shelf = Shelf::default();
        let log = BatchedLog::start(Box::new(shelf.clone()));
        let threads: Vec<_> = (0..4)
            .map(|thread| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for n in 0..5_000 {
                        line(
                            &log,
                            &format!("thread {thread} line {n} {}\n", "x".repeat(n % 97)),
                        );
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("the writing thread ends");
        }
        log.stop();
        let text = shelf.text();
        let mut next = [0usize; 4];
        for written in text.lines() {
            let words: Vec<&str> = written.split(' ').collect();
            let thread: usize = words[1].parse().expect("a thread number");
            let n: usize = words[3].parse().expect("a line number");
            assert_eq!(n, next[thread], "thread {thread} out of order: {written}");
            assert_eq!(words[4].len(), n % 97, "a torn line: {written}");
            next[thread] += 1;
        }
        assert_eq!(next, [5_000; 4], "every line is written once");
    }

    #[test]
    fn a_lone_line_is_written_without_waiting_for_more_and_after_stop_at_once() {
        let shelf = Shelf::default();
        let log = BatchedLog::start(Box::new(shelf.clone()));
        line(&log, "one\n");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while shelf.text().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(
            shelf.text(),
            "one\n",
            "a lone line is written without a stop"
        );
        log.stop();
        line(&log, "two\n");
        assert_eq!(
            shelf.text(),
            "one\ntwo\n",
            "after stop a line is written at once"
        );
    }
}
