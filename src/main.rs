//! `ducha`: see `ducha --help`.

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // jemalloc purges freed pages (after its 10 s decay) on its own thread; without it an
    // idle server holds the peak of its last sweep or report until it allocates again.
    if let Err(error) = tikv_jemalloc_ctl::background_thread::write(true) {
        eprintln!("jemalloc background thread not started: {error}");
    }
    ducha_server::cli::run().await
}
