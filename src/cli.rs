//! The command line: `serve` (default), `migrate`, `demo-data`, `run-jobs`,
//! `rotate-secret-key`, `staff create`.

use std::{io::Read, process::ExitCode, sync::Arc, time::Duration};

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::{
    accounts::{
        EmailAddress, Passwords,
        staff::{self, NewStaff, StaffRole},
        totp_secrets,
    },
    audit::Actor,
    clock::Clock,
    config::Config,
    db, demo, jobs,
    listings::Directory,
    mail::Dispatcher,
    secrets::{self, Secrets},
    startup::{Application, cancel_on_signal},
    state::AppState,
    telemetry,
};

#[derive(Parser)]
#[command(
    name = "partner-portal",
    version,
    about = "Runs the technology alliance partner program portal"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server with its background tasks (the default).
    Serve,
    /// Create the database if needed, apply migrations, and exit.
    Migrate,
    /// Fill an empty database with a realistic program at scale.
    DemoData {
        /// 1.0 makes 10,000 organisations; 0.1 makes 1,000.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// Run one pass of the background jobs now (reminders, escalations,
    /// digest, housekeeping), print what each did and how long it took.
    RunJobs,
    /// Re-seal every secret kept at rest under PORTAL_SECRET_KEY (after
    /// moving the previous key to PORTAL_OLD_SECRET_KEYS); safe while the
    /// portal serves.
    RotateSecretKey,
    /// Manage staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create a staff account; prints its two-factor secret once as `totp_secret=…`.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin or reviewer
        #[arg(long)]
        role: StaffRole,
        /// Read the password from standard input (required, so it never
        /// appears in the process list or shell history).
        #[arg(long)]
        password_stdin: bool,
    },
}

/// A failure to report as one line, without a backtrace.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => return fail(Failure(e.to_string())),
    };
    telemetry::init(config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(config).await,
        Command::DemoData { scale } => demo_data(config, scale).await,
        Command::RunJobs => run_jobs(config).await,
        Command::RotateSecretKey => rotate_secret_key(config).await,
        Command::Staff {
            command:
                StaffCommand::Create {
                    email,
                    name,
                    role,
                    password_stdin,
                },
        } => create_staff(config, email, name, role, password_stdin).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => fail(failure),
    }
}

fn fail(failure: Failure) -> ExitCode {
    eprintln!("partner-portal: error: {}", failure.0);
    ExitCode::FAILURE
}

async fn serve(config: Config) -> Result<(), Failure> {
    let app = Application::build(config).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    app.run_until_stopped(shutdown).await?;
    Ok(())
}

async fn migrate(config: Config) -> Result<(), Failure> {
    let secrets = Secrets::load(&config)?;
    let pool = db::prepare(&config).await?;
    totp_secrets::seal_plain(&pool, &secrets).await?;
    pool.close().await;
    eprintln!("partner-portal: the database is up to date");
    Ok(())
}

async fn demo_data(config: Config, scale: f64) -> Result<(), Failure> {
    if !(0.0001..=10.0).contains(&scale) {
        return Err(Failure("--scale: use a number from 0.0001 to 10".into()));
    }
    let secrets = Secrets::load(&config)?;
    // Bulk loading runs long statements on purpose: no slow-statement
    // warnings between the progress lines.
    let pool = db::prepare_quiet(&config).await?;
    let summary = demo::run(&pool, &secrets, demo::Scale(scale), Clock::system().now()).await?;
    println!();
    for (label, n) in &summary.counts {
        println!("{n:>10}  {label}");
    }
    println!("\nDone in {:.1} s.", summary.elapsed.as_secs_f64());
    println!(
        "Every generated person signs in with the password: {}",
        demo::DEMO_PASSWORD
    );
    println!("  a partner admin:  {}", summary.partner_admin);
    println!(
        "  a staff admin:    {}  (second factor: totp_secret={})",
        summary.staff_admin, summary.staff_totp_secret
    );
    pool.close().await;
    Ok(())
}

async fn run_jobs(config: Config) -> Result<(), Failure> {
    let secrets = Arc::new(Secrets::load(&config)?);
    let pool = db::prepare(&config).await?;
    let state = AppState {
        directory: Arc::new(Directory::new(pool.clone())),
        sessions: Arc::default(),
        gitlab: crate::gitlab::GitLab::new(&config.gitlab, &config.public_url),
        secrets,
        metrics: Arc::default(),
        pool: pool.clone(),
        config: Arc::new(config),
        clock: Clock::system(),
        passwords: Passwords::new(),
    };
    let started = std::time::Instant::now();
    let runs = jobs::run_jobs(&state, state.clock.now()).await;
    let pass = started.elapsed();
    let mut failed = None;
    for run in runs {
        let ms = run.elapsed.as_secs_f64() * 1000.0;
        match run.result {
            Ok(done) => println!("{:<34} {done:>7} done  {ms:>9.1} ms", run.name),
            Err(e) => {
                println!("{:<34} failed   {ms:>9.1} ms: {e}", run.name);
                failed.get_or_insert(format!("{}: {e}", run.name));
            }
        }
    }
    println!(
        "{:<34} {:>12}  {:>9.1} ms",
        "one pass",
        "",
        pass.as_secs_f64() * 1000.0
    );
    pool.close().await;
    failed.map_or(Ok(()), |f| Err(Failure(f)))
}

async fn rotate_secret_key(config: Config) -> Result<(), Failure> {
    let secrets = Secrets::load(&config)?;
    let pool = db::prepare(&config).await?;
    let plain = totp_secrets::seal_plain(&pool, &secrets).await?;
    let report = secrets::reseal_all(&pool, &secrets).await?;
    pool.close().await;
    println!(
        "resealed {} secret(s) under key {}; sealed {plain} kept in plain text",
        report.resealed,
        secrets.current_key_id()
    );
    for (column, id, why) in &report.unreadable {
        println!("cannot open {column} of row {id}: {why}");
    }
    if report.unreadable.is_empty() {
        eprintln!(
            "partner-portal: every secret is sealed under the current key; keys in PORTAL_OLD_SECRET_KEYS are no longer needed"
        );
        Ok(())
    } else {
        Err(Failure(format!(
            "{} secret(s) could not be opened with PORTAL_SECRET_KEY or PORTAL_OLD_SECRET_KEYS; add the key they were sealed with and run again",
            report.unreadable.len()
        )))
    }
}

async fn create_staff(
    config: Config,
    email: String,
    name: String,
    role: StaffRole,
    password_stdin: bool,
) -> Result<(), Failure> {
    if !password_stdin {
        return Err(Failure(
            "staff create: pass --password-stdin and write the password to standard input".into(),
        ));
    }
    let email = EmailAddress::parse(&email).map_err(|e| format!("--email: {e}"))?;
    let name = staff::parse_name(&name).map_err(|e| format!("--name: {e}"))?;
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| format!("could not read the password from standard input: {e}"))?;
    let password = password.strip_suffix('\n').unwrap_or(&password);
    let password = password.strip_suffix('\r').unwrap_or(password);
    let password =
        staff::check_password(password, &email, &name).map_err(|e| format!("password: {e}"))?;

    let secrets = Secrets::load(&config)?;
    let pool = db::prepare(&config).await?;
    let clock = Clock::system();
    let password_hash = Passwords::new().hash(&password).await?;
    let new = NewStaff {
        email,
        name,
        role,
        password_hash,
        totp_secret: staff::generate_totp_secret(),
    };
    let mut tx = crate::db::begin(&pool).await?;
    let created = staff::create(
        &mut tx,
        &secrets,
        clock.now(),
        &Actor::command_line(),
        &new,
        config.link("/login"),
    )
    .await?;
    tx.commit().await?;

    println!("totp_secret={}", new.totp_secret);
    eprintln!(
        "partner-portal: created staff {} {} <{}>; add the secret above to an authenticator app",
        new.role, new.name, new.email
    );

    // Deliver the welcome email now; if the mail server is unreachable it
    // stays queued and the running portal delivers it.
    // (A running portal may deliver it first.)
    let dispatcher = Dispatcher::new(pool.clone(), &config, clock)?;
    let _ = tokio::time::timeout(Duration::from_secs(30), dispatcher.dispatch_once()).await;
    let status = sqlx::query_scalar!(
        "select status from outbox_emails where id = $1",
        created.welcome_email_id
    )
    .fetch_one(&pool)
    .await?;
    if status == "sent" {
        eprintln!("partner-portal: welcome email sent to {}", new.email);
    } else {
        eprintln!(
            "partner-portal: the welcome email to {} is queued; the portal will deliver it",
            new.email
        );
    }
    pool.close().await;
    Ok(())
}
