//! `ducha`: see `ducha --help`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ducha_server::cli::run().await
}
