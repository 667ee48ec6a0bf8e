use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    partner_portal::cli::run().await
}
