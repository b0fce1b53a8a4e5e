//! Command-line types (clap only; no behaviour here).

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// A date on the command line, in any form the roster accepts (2026-09-18,
/// 2026/9/18, 2026.9.18, 2026年9月18日, 20260918).
pub fn date(s: &str) -> Result<NaiveDate, String> {
    crate::roster::parse_date_text(s.trim())
}

/// `--version`: the release, the commit and the commit's date.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("QINQING_COMMIT"),
    " ",
    env!("QINQING_BUILD_DATE"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "qinqing",
    version = VERSION,
    about = "亲情服务提醒 — reminders for the staff of a retired-cadres bureau"
)]
pub struct Cli {
    /// Config file (TOML). Default: config/qinqing.toml when it exists, else built-in defaults.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://FILE, a file path, or postgres://…; overrides the config.
    #[arg(
        long,
        global = true,
        env = "QINQING_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import a roster (花名册) from .xlsx or .csv (UTF-8 or GBK).
    Import(ImportArgs),
    /// Validate config, rules (with their test cases) and the stored roster; print a summary.
    Check(CheckArgs),
    /// Festivals and China's non-working days of a year.
    Calendar(CalendarArgs),
    /// Every reminder stage in a date range, as if the daemon had run each day; nothing is stored or sent.
    Preview(PreviewArgs),
    /// Documents to deliver (三必须).
    #[command(subcommand)]
    Doc(DocCommand),
    /// The ledger of calls and visits.
    #[command(subcommand)]
    Contact(ContactCommand),
    /// Events of a person (住院, 出院, 去世, 困难, 反映问题), planned at once.
    #[command(subcommand)]
    Event(EventCommand),
    /// A colleague covers a staff member's reminders, escalations and worklist while away.
    Delegate(DelegateArgs),
    /// Hold a person's non-urgent reminders while they are away (异地居住…).
    Pause(PauseArgs),
    /// Move a person to other staff members (联系人); open work follows.
    Assign(AssignArgs),
    /// Reports: coverage (落实情况) for the year-end assessment, the ledger (台账), the audit log.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Run the daemon (planning tick and dispatcher).
    Run(RunArgs),
    /// Last tick, the outbox by status, failures.
    Status(StatusArgs),
    /// Acknowledge an occasion by the reference printed in a digest.
    Ack(AckArgs),
    /// Send one test message to a staff member on one channel.
    TestSend(TestSendArgs),
    /// Print a staff member's worklist link (--staff) or an occasion's link (--ref);
    /// `link revoke --staff` ends all of a staff member's links.
    Link(LinkArgs),
    /// 打印命令行补全脚本 (shell completions): qinqing completions bash > /etc/bash_completion.d/qinqing
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// 打印手册页 (the man page, roff): qinqing man > /usr/local/share/man/man1/qinqing.1
    Man,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LinkArgs {
    #[command(subcommand)]
    pub revoke: Option<LinkCommand>,
    /// 工号: print a new worklist link for this staff member.
    #[arg(long, value_name = "工号", conflicts_with = "reference")]
    pub staff: Option<String>,
    /// 提醒编号: print a new acknowledgement link for this occasion.
    #[arg(long = "ref", value_name = "REFERENCE")]
    pub reference: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum LinkCommand {
    /// End every link of a staff member (worklist and acknowledgement links).
    Revoke {
        #[arg(long, value_name = "工号")]
        staff: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The roster file (.xlsx or .csv).
    pub file: PathBuf,
    /// Sheet holding the persons (default 花名册, else the first sheet).
    #[arg(long)]
    pub sheet: Option<String>,
    /// Staff list in its own file (default: sheet 工作人员 of the workbook).
    #[arg(long, value_name = "FILE")]
    pub staff: Option<PathBuf>,
    /// Only validate; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Import the good rows and report the bad ones (default: any error changes nothing).
    #[arg(long)]
    pub skip_invalid: bool,
    /// Mark persons missing from this file inactive (default: only report them).
    #[arg(long)]
    pub deactivate_missing: bool,
    /// Apply the probable ID-number corrections the import reports for rows without
    /// 编号 (default: such a row is imported as a new person, with a warning).
    #[arg(long)]
    pub confirm_corrections: bool,
    /// Write every error to this file (.xlsx: sheet 错误, and sheet 待修改 with the bad
    /// rows, bad cells highlighted, to fix and import; .csv: the errors only).
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CalendarArgs {
    #[arg(long)]
    pub year: i32,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    #[arg(value_parser = date, long)]
    pub from: NaiveDate,
    #[arg(value_parser = date, long)]
    pub to: NaiveDate,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Only this rule id.
    #[arg(long)]
    pub rule: Option<String>,
    /// Only this person (身份证号 or 编号).
    #[arg(long)]
    pub person: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DocCommand {
    /// Register a document.
    Add(DocAddArgs),
    /// List registered documents.
    List(DocListArgs),
}

#[derive(Debug, Args)]
pub struct DocAddArgs {
    #[arg(long)]
    pub title: String,
    #[arg(value_parser = date, long)]
    pub issued: NaiveDate,
    #[arg(value_parser = date, long)]
    pub deadline: NaiveDate,
    /// Categories, e.g. 离休,退休
    #[arg(long)]
    pub audience: String,
    /// Minimum rank, e.g. 县处级
    #[arg(long)]
    pub min_rank: Option<String>,
}

#[derive(Debug, Args)]
pub struct DocListArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Log a call, a visit or a delivery (with --ref: the one a reminder asked for).
    Add(ContactAddArgs),
    /// The ledger's contacts and attempts, by day done.
    List(ContactListArgs),
}

#[derive(Debug, Args)]
pub struct ContactListArgs {
    /// 身份证号 or 编号: this person's whole history, across staff.
    #[arg(long)]
    pub person: Option<String>,
    /// 工号: the work this staff member did.
    #[arg(long)]
    pub staff: Option<String>,
    /// Done on or after this day.
    #[arg(value_parser = date, long)]
    pub from: Option<NaiveDate>,
    /// Done on or before this day.
    #[arg(value_parser = date, long)]
    pub to: Option<NaiveDate>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ContactKind {
    Call,
    Visit,
    Deliver,
}

impl ContactKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContactKind::Call => "call",
            ContactKind::Visit => "visit",
            ContactKind::Deliver => "deliver",
        }
    }
}

#[derive(Debug, Args)]
pub struct ContactAddArgs {
    /// 身份证号 or 编号
    #[arg(long)]
    pub person: String,
    /// 工号
    #[arg(long)]
    pub staff: String,
    #[arg(long, value_enum)]
    pub kind: ContactKind,
    /// Default: today.
    #[arg(value_parser = date, long)]
    pub on: Option<NaiveDate>,
    #[arg(long)]
    pub note: Option<String>,
    /// 提醒编号: the contact acknowledges this occasion (as `qinqing ack` does).
    #[arg(long = "ref", value_name = "REFERENCE")]
    pub reference: Option<String>,
    /// not_done: an attempt that failed (家中无人), with its reason in --note; it
    /// is in the ledger and closes nothing.
    #[arg(long, value_enum, default_value = "done")]
    pub outcome: OutcomeArg,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutcomeArg {
    Done,
    #[value(name = "not_done")]
    NotDone,
}

#[derive(Debug, Args)]
pub struct DelegateArgs {
    /// 工号 of who is away.
    #[arg(long, value_name = "工号")]
    pub staff: String,
    /// 工号 of who covers.
    #[arg(long, value_name = "工号")]
    pub to: String,
    #[arg(value_parser = date, long)]
    pub from: NaiveDate,
    /// The last day covered.
    #[arg(value_parser = date, long)]
    pub until: NaiveDate,
}

#[derive(Debug, Args)]
pub struct PauseArgs {
    /// 身份证号 or 编号
    #[arg(long)]
    pub person: String,
    #[arg(value_parser = date, long)]
    pub from: NaiveDate,
    /// The last day paused (default: no end).
    #[arg(value_parser = date, long)]
    pub until: Option<NaiveDate>,
    /// Why, e.g. 异地居住 or 随子女外出.
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct AssignArgs {
    /// 身份证号 or 编号
    #[arg(long)]
    pub person: String,
    /// 工号, or several separated by commas (two 联系人).
    #[arg(long, value_name = "工号[,工号]", value_delimiter = ',')]
    pub staff: Vec<String>,
    /// The first day of the new assignment (default: today).
    #[arg(value_parser = date, long)]
    pub from: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    Table,
    Csv,
    Json,
    Xlsx,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Occasions of a period per staff member and rule: due, on time, late, missed, open, paused.
    Coverage(CoverageArgs),
    /// Every contact and attempt of a period (台账).
    Ledger(LedgerArgs),
    /// Who exported which report or read the API, and when.
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("period").required(true).args(["month", "year", "from"])))]
pub struct CoverageArgs {
    /// A month, e.g. 2026-09.
    #[arg(long, value_name = "YYYY-MM", conflicts_with_all = ["year", "from", "to"])]
    pub month: Option<String>,
    #[arg(long, value_name = "YYYY", conflicts_with_all = ["from", "to"])]
    pub year: Option<i32>,
    /// With --to: occasions dated from this day.
    #[arg(value_parser = date, long, requires = "to")]
    pub from: Option<NaiveDate>,
    #[arg(value_parser = date, long, requires = "from")]
    pub to: Option<NaiveDate>,
    /// Count work done up to this day (default: today).
    #[arg(value_parser = date, long = "as-of", value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// Only this staff member (工号).
    #[arg(long, value_name = "工号")]
    pub staff: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Write to this file instead of the terminal (required for xlsx).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LedgerArgs {
    #[arg(value_parser = date, long)]
    pub from: NaiveDate,
    #[arg(value_parser = date, long)]
    pub to: NaiveDate,
    /// Only the work of this staff member (工号).
    #[arg(long, value_name = "工号")]
    pub staff: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// Write to this file instead of the terminal (required for xlsx).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only entries from this day on.
    #[arg(value_parser = date, long)]
    pub from: Option<NaiveDate>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum EventCommand {
    /// Record an event: updates the person as a re-import would and plans at once.
    Add(EventAddArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum EventKind {
    /// 住院
    Hospitalised,
    /// 出院
    Discharged,
    /// 去世
    Deceased,
    /// 困难
    Hardship,
    /// 反映问题
    Complaint,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Hospitalised => "hospitalised",
            EventKind::Discharged => "discharged",
            EventKind::Deceased => "deceased",
            EventKind::Hardship => "hardship",
            EventKind::Complaint => "complaint",
        }
    }
}

#[derive(Debug, Args)]
pub struct EventAddArgs {
    /// 身份证号 or 编号
    #[arg(long)]
    pub person: String,
    #[arg(long, value_enum)]
    pub kind: EventKind,
    /// The day it happened (not in the future).
    #[arg(value_parser = date, long)]
    pub on: NaiveDate,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// One planning tick and one dispatch round, then exit.
    #[arg(long)]
    pub once: bool,
    /// The clock for this run, e.g. 2026-09-18T08:30:00+08:00.
    #[arg(long)]
    pub now: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct AckArgs {
    /// The reference printed in the digest.
    pub reference: String,
    /// 工号 of who did it.
    #[arg(long)]
    pub by: Option<String>,
    /// The day the work was done (default: today).
    #[arg(value_parser = date, long)]
    pub on: Option<NaiveDate>,
    /// What was done (default: what the reminder asked for).
    #[arg(long, value_enum)]
    pub kind: Option<ContactKind>,
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct TestSendArgs {
    /// 工号
    #[arg(long)]
    pub staff: String,
    /// Channel name: console, email, sms, webhook, wecom, dingtalk, feishu.
    #[arg(long)]
    pub channel: String,
}
