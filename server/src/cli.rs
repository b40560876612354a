//! The `ducha` command line: `serve` runs the service; `calendar …` answers working-day
//! questions for operators and scripts; `report` writes a monthly report; `schema` prints
//! the GraphQL SDL.
//!
//! The calendar commands print exactly one answer a line — `true`/`false`, a date
//! `YYYY-MM-DD`, or an integer — with ` provisional` appended when the answer depends on a
//! year without a published notice, so shell scripts can parse them without surprises.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use ducha_calendar::{Answer, Calendar};

use crate::config::Settings;
use crate::startup::Application;

#[derive(Debug, Parser)]
#[command(
    name = "ducha",
    version,
    about = "督查督办: supervision tracking with a working-day deadline engine"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the GraphQL service (SQLite in ./data by default; see README for settings)
    Serve {
        /// Load a demo district (units, people, 60 items) into an empty database and print
        /// a token for each role
        #[arg(long)]
        demo: bool,
    },
    /// Issue a new access token for a person (the old one stops working)
    Token {
        #[arg(long)]
        person_id: i64,
    },
    /// Working-day calendar of China (statutory holidays and 调休), 2004–2026
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Print the GraphQL schema (SDL), as checked in at schema.graphql
    Schema,
    /// Write a month's supervision report (月度督查通报) from the configured database: the
    /// latest published version, or — if the month was never published — one computed now
    /// and not stored
    Report {
        /// The month, e.g. 2026-10
        #[arg(long)]
        month: String,
        #[arg(long, value_enum, default_value = "html")]
        format: ReportFormat,
        /// Where to write it
        #[arg(long)]
        output: std::path::PathBuf,
        /// A published version other than the latest
        #[arg(long)]
        version: Option<i32>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ReportFormat {
    Html,
    Xlsx,
    Csv,
}

#[derive(Debug, Subcommand)]
enum CalendarCommand {
    /// Print `true` if DATE is a working day, else `false`
    IsWorkday { date: String },
    /// Print the N-th working day after DATE (start day not counted; N may be 0 or negative)
    Add {
        date: String,
        #[arg(allow_negative_numbers = true)]
        days: String,
    },
    /// Print the number of working days in (FROM, TO]
    Between { from: String, to: String },
    /// Read requests from stdin, one a line (`is-workday D`, `add D N`, `between A B`),
    /// and print one answer a line, in order
    Eval,
    /// Import a year in holiday-cn JSON into the service's database and recalculate the
    /// open deadlines it affects
    Import {
        file: std::path::PathBuf,
        /// `replace`: the file is the whole year; `amend`: the file's days win, the rest stay
        #[arg(long, value_enum)]
        mode: ImportModeArg,
        /// Print the days that would change and the deadlines that would move; store nothing
        #[arg(long)]
        dry_run: bool,
        /// Replace a published year even though the file drops most of its days
        #[arg(long)]
        force: bool,
    },
}

/// How an imported year meets the one already known (see `service::calendar::ImportMode`).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ImportModeArg {
    Replace,
    Amend,
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { demo } => report(serve(demo).await),
        Command::Token { person_id } => report(token(person_id).await),
        Command::Calendar { command } => calendar(command).await,
        Command::Report {
            month,
            format,
            output,
            version,
        } => report(write_report(&month, format, &output, version).await),
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            ExitCode::SUCCESS
        }
    }
}

/// The pure commands answer from the bundled national calendar (no database needed, so
/// scripts can call them anywhere); `import` writes to the service's database.
async fn calendar(command: CalendarCommand) -> ExitCode {
    let calendar = Calendar::national();
    let request = match command {
        CalendarCommand::IsWorkday { date } => format!("is-workday {date}"),
        CalendarCommand::Add { date, days } => format!("add {date} {days}"),
        CalendarCommand::Between { from, to } => format!("between {from} {to}"),
        CalendarCommand::Import {
            file,
            mode,
            dry_run,
            force,
        } => {
            let mode = match mode {
                ImportModeArg::Replace => crate::service::calendar::ImportMode::Replace,
                ImportModeArg::Amend => crate::service::calendar::ImportMode::Amend,
            };
            return report(import(&file, mode, dry_run, force).await);
        }
        CalendarCommand::Eval => {
            let stdin = std::io::stdin();
            let stdout = std::io::stdout();
            return match eval(&calendar, stdin.lock(), stdout.lock()) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => ExitCode::FAILURE,
                Err(error) => {
                    eprintln!("error: {error}");
                    ExitCode::FAILURE
                }
            };
        }
    };
    match answer(&calendar, &request) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("error: {why}");
            ExitCode::FAILURE
        }
    }
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn token(person_id: i64) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    let db = crate::db::connect(&settings).await?;
    // This process keeps no copies; running servers hear the audit row through their tail.
    let changes = crate::changes::ChangeFeed::default();
    let token = crate::service::org::rotate_token(&db, &changes, chrono::Utc::now(), person_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{token}");
    Ok(())
}

async fn import(
    file: &std::path::Path,
    mode: crate::service::calendar::ImportMode,
    dry_run: bool,
    force: bool,
) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    let json =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let db = crate::db::connect(&settings).await?;
    let store = crate::calendar_store::CalendarStore::load(&db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // This process keeps no copies; running servers hear the audit row through their tail.
    let changes = crate::changes::ChangeFeed::default();
    let outcome = crate::service::calendar::import_year(
        &db,
        &store,
        &changes,
        &settings.deadline_policy(),
        None,
        chrono::Utc::now(),
        crate::service::calendar::ImportRequest {
            holiday_cn_json: &json,
            mode,
            dry_run,
            force,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "{} {} (calendar {}); {} open deadline(s) {}",
        if outcome.dry_run {
            "would import"
        } else {
            "imported"
        },
        outcome.year,
        outcome.calendar_version,
        outcome.recalculated,
        if outcome.dry_run {
            "would move"
        } else {
            "recalculated"
        },
    );
    for change in &outcome.changed_days {
        let says = |m: &Option<(ducha_calendar::SpecialKind, String)>| match m {
            Some((ducha_calendar::SpecialKind::Off, name)) => format!("{name} off"),
            Some((ducha_calendar::SpecialKind::Work, name)) => format!("{name} make-up workday"),
            None => "ordinary".to_string(),
        };
        println!(
            "{}: {} -> {}",
            change.date,
            says(&change.before),
            says(&change.after)
        );
    }
    for moved in &outcome.moved {
        println!(
            "{} (assignment {}): {} -> {}",
            moved.serial, moved.assignment_id, moved.old_due_at, moved.new_due_at
        );
    }
    Ok(())
}

async fn write_report(
    month: &str,
    format: ReportFormat,
    output: &std::path::Path,
    version: Option<i32>,
) -> anyhow::Result<()> {
    let month: ducha_report::Month = month.parse()?;
    let settings = Settings::load()?;
    let state = crate::state::AppState::connect(&settings, crate::clock::Clock::system()).await?;
    let internal = |e: crate::error::AppError| anyhow::anyhow!("{e}");
    let (report, version, changes) = match crate::service::reports::find(&state.db, month, version)
        .await
        .map_err(internal)?
    {
        Some(published) => (published.report, published.version, published.changes),
        None if version.is_some() => anyhow::bail!("{month} 没有第 {version:?} 版通报"),
        None => {
            eprintln!("{month} 的通报尚未发布；以下为按当前数据计算的草稿，未保存。");
            let draft =
                crate::service::reports::compute(state.publisher(), month, chrono::Utc::now())
                    .await
                    .map_err(internal)?;
            (draft, 0, Vec::new())
        }
    };
    let bytes = match format {
        ReportFormat::Html => {
            ducha_report::render::html(&report, version, &changes, crate::service::reports::OFFICE)?
                .into_bytes()
        }
        ReportFormat::Xlsx => ducha_report::render::xlsx(&report)?,
        ReportFormat::Csv => ducha_report::render::csv(&report)?,
    };
    std::fs::write(output, bytes).with_context(|| format!("writing {}", output.display()))?;
    println!(
        "{} → {}",
        if version > 0 {
            format!("{}（第{}版）", report.title, version)
        } else {
            format!("{}（草稿）", report.title)
        },
        output.display()
    );
    Ok(())
}

async fn serve(demo: bool) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    let _log = crate::telemetry::init(&settings.log);
    let application = Application::build(&settings).await?;
    let address = application.address();
    if demo {
        match crate::demo::load(application.state()).await {
            Ok(Some(tokens)) => {
                println!(
                    "已载入演示数据（31个单位、60个督办事项）。网页登录 http://{address}/login ，演示账号的密码均为 {}",
                    tokens.password
                );
                for (account, who) in &tokens.accounts {
                    println!("  {account:<16} {who}");
                }
                println!("各角色的演示令牌（API）：");
                println!("  系统管理员 ADMIN      {}", tokens.admin);
                println!("  督查室 SUPERVISOR     {}", tokens.supervisor);
                println!("  区领导 LEADER         {}", tokens.leader);
                println!(
                    "  {}主要负责人 UNIT_HEAD  {}",
                    tokens.unit_name, tokens.unit_head
                );
                println!(
                    "  {}经办人 UNIT_STAFF    {}",
                    tokens.unit_name, tokens.unit_staff
                );
            }
            Ok(None) => println!("数据库中已有单位，未重复载入演示数据。"),
            Err(error) => anyhow::bail!("loading demo data: {error:?}"),
        }
    }
    tracing::info!(
        %address,
        database = %crate::db::redact(&settings.database_url),
        calendar_version = application.state().calendar.current().map(|c| c.version().to_string()).unwrap_or_default(),
        "ducha is listening"
    );
    if let Some(first) = application.first_admin() {
        println!("首次启动：已创建系统管理员（以下仅显示这一次，请妥善保存）：");
        println!(
            "  网页登录 http://{address}/login  账号 {}  密码 {}",
            first.account, first.password
        );
        println!("  API 访问令牌 {}", first.token);
        println!(
            "在 GraphiQL 的 Headers 中填写 {{\"Authorization\": \"Bearer {}\"}}",
            first.token
        );
        println!("以后可用 `ducha token --person-id <编号>` 为任何人重新生成令牌。");
    }
    // A line for people (and for tests that start the binary on port 0).
    println!(
        "ducha listening on http://{address} (pages: http://{address}/ , GraphiQL: http://{address}/graphql)"
    );
    application
        .run_until(shutdown_signal())
        .await
        .context("serving HTTP")?;
    tracing::info!("ducha stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Answers each request line; a bad line prints `error: <why>` and the run goes on.
/// Returns whether every line succeeded.
pub fn eval(
    calendar: &Calendar,
    input: impl BufRead,
    mut output: impl Write,
) -> std::io::Result<bool> {
    let mut all_ok = true;
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match answer(calendar, &line) {
            Ok(text) => writeln!(output, "{text}")?,
            Err(why) => {
                all_ok = false;
                writeln!(output, "error: {why}")?;
            }
        }
    }
    output.flush()?;
    Ok(all_ok)
}

/// One request (`is-workday D`, `add D N`, `between A B`) to one answer line.
pub fn answer(calendar: &Calendar, request: &str) -> Result<String, String> {
    let words: Vec<&str> = request.split_whitespace().collect();
    match words.as_slice() {
        ["is-workday", date] => Ok(render(
            calendar.is_working_day(covered(calendar, parse_date(date)?)?),
        )),
        ["add", date, days] => {
            let date = covered(calendar, parse_date(date)?)?;
            let days: i32 = days
                .parse()
                .map_err(|_| format!("not a whole number of days: {days}"))?;
            ducha_calendar::DeadlineRule::WorkingDays(days)
                .check_bounds()
                .map_err(|e| e.to_string())?;
            let answer = calendar
                .add_working_days(date, days)
                .map_err(|e| e.to_string())?;
            covered(calendar, answer.value)?;
            Ok(render(answer))
        }
        ["between", from, to] => Ok(render(calendar.working_days_between(
            covered(calendar, parse_date(from)?)?,
            covered(calendar, parse_date(to)?)?,
        ))),
        [] => Err("empty request".to_string()),
        [verb, ..] if ["is-workday", "add", "between"].contains(verb) => {
            Err(format!("wrong number of arguments for `{verb}`"))
        }
        [verb, ..] => Err(format!(
            "unknown request `{verb}` (expected is-workday, add or between)"
        )),
    }
}

/// The date, if the calendar can say anything true about it (the same checks as the API).
fn covered(calendar: &Calendar, date: NaiveDate) -> Result<NaiveDate, String> {
    calendar
        .check_coverage(date)
        .map(|()| date)
        .map_err(|e| e.to_string())
}

fn parse_date(text: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("not a date YYYY-MM-DD: {text}"))
}

fn render<T: std::fmt::Display>(answer: Answer<T>) -> String {
    if answer.provisional {
        format!("{} provisional", answer.value)
    } else {
        answer.value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_answers_each_line_and_reports_bad_ones_in_place() {
        let calendar = Calendar::national();
        let input = "is-workday 2026-10-10\nadd 2026-09-30 3\nbetween 2026-09-30 2026-10-12\nadd 2026-13-01 1\nadd 2026-12-31 3\nfrobnicate\nbetween 2026-01-01\n";
        let mut out = Vec::new();
        let ok = eval(&calendar, input.as_bytes(), &mut out).expect("io");
        let out = String::from_utf8(out).expect("utf8");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[..3], ["true", "2026-10-10", "4"]);
        assert!(lines[3].starts_with("error: not a date"), "{}", lines[3]);
        assert_eq!(
            lines[4], "2027-01-06 provisional",
            "元旦 2027 is a day off by law"
        );
        assert!(lines[5].starts_with("error: unknown request"));
        assert!(lines[6].starts_with("error: wrong number"));
        assert_eq!(lines.len(), 7);
        assert!(!ok, "a failed line makes the run fail");
    }
}
