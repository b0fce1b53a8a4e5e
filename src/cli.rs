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
    /// 配置文件 (TOML)。默认 config/qinqing.toml(存在时),否则用内置默认值。Config file.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// 数据库地址:sqlite://文件、文件路径或 postgres://…;优先于配置文件。Database URL.
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
    /// 导入花名册(.xlsx、.xls、.et、.csv,UTF-8 或 GBK)。Import a roster.
    Import(ImportArgs),
    /// 检查配置、规则(及其测试用例)和花名册,并汇总。Validate the set-up.
    Check(CheckArgs),
    /// 一年的节日和法定节假日、调休。Festivals and days off of a year.
    Calendar(CalendarArgs),
    /// 预览一段时间内的所有提醒(不保存、不发送)。Preview every reminder stage in a range.
    Preview(PreviewArgs),
    /// 需要送达的文件(三必须)。Documents to deliver.
    #[command(subcommand)]
    Doc(DocCommand),
    /// 台账:登记和查看电话、走访、送文。The ledger of contacts.
    #[command(subcommand)]
    Contact(ContactCommand),
    /// 登记老同志的事件(住院、出院、去世、困难、反映问题),立即安排提醒。Record an event.
    #[command(subcommand)]
    Event(EventCommand),
    /// 工作人员外出期间,由同事代办其提醒、督办和工作清单(服务断档)。Delegate while away.
    Delegate(DelegateArgs),
    /// 暂停老同志的非紧急提醒(异地居住、随子女外出等)。Pause a person's reminders.
    Pause(PauseArgs),
    /// 更换老同志的联系人,未办事项随之转交。Reassign a person.
    Assign(AssignArgs),
    /// 报表:落实情况(目标考核)、台账、审计日志。Reports.
    #[command(subcommand)]
    Report(ReportCommand),
    /// 运行守护进程(每日安排提醒并发送)。Run the daemon.
    Run(RunArgs),
    /// 运行状态:上次安排、发送情况、失败和督办无人接收的事项。Status.
    Status(StatusArgs),
    /// 按提醒编号确认办结。Acknowledge an occasion by its 提醒编号.
    Ack(AckArgs),
    /// 给工作人员发送一条测试消息。Send a test message.
    TestSend(TestSendArgs),
    /// 生成工作清单链接(--staff)或确认链接(--ref);link revoke --staff 作废某人的全部链接。Links.
    Link(LinkArgs),
    /// 打印命令行补全脚本 (shell completions): qinqing completions bash > /etc/bash_completion.d/qinqing
    Completions {
        /// bash, zsh, fish, elvish 或 powershell
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
    /// 工号:生成此人的工作清单链接。
    #[arg(long, value_name = "工号", conflicts_with = "reference")]
    pub staff: Option<String>,
    /// 提醒编号:生成该事项的确认链接。
    #[arg(long = "ref", value_name = "REFERENCE")]
    pub reference: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum LinkCommand {
    /// 作废某位工作人员的全部链接。End every link of a staff member.
    Revoke {
        /// 工号
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
    /// 花名册文件。The roster file.
    pub file: PathBuf,
    /// 老同志所在的工作表(默认「花名册」,否则第一个)。Sheet of the persons.
    #[arg(long)]
    pub sheet: Option<String>,
    /// 单独的工作人员名单文件(默认同一工作簿的「工作人员」表)。Staff file.
    #[arg(long, value_name = "FILE")]
    pub staff: Option<PathBuf>,
    /// 只检查,不导入。Only validate.
    #[arg(long)]
    pub dry_run: bool,
    /// 导入正确的行,报告错误的行(默认:有任何错误就不导入)。Import the good rows.
    #[arg(long)]
    pub skip_invalid: bool,
    /// 把文件中没有的老同志标为不在册(默认只报告)。Deactivate missing persons.
    #[arg(long)]
    pub deactivate_missing: bool,
    /// 采纳导入报告的身份证号更正(没有编号的行;默认作为新人导入并警告)。Apply ID corrections.
    #[arg(long)]
    pub confirm_corrections: bool,
    /// 把全部错误写入文件(.xlsx:「待修改」表标出错误格子,改好后可直接导入;「错误」表逐条列出;.csv:只有错误)。Write every error to a file.
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// 启动前检查(systemd ExecStartPre/ExecReload):只有会让守护进程无法启动的问题才算错误,
    /// 规则和花名册的问题只警告。Fail only on what stops the daemon from starting.
    #[arg(long)]
    pub startup: bool,
    /// 检查这个规则文件夹(复制到正式位置之前),代替配置里的 rules.path。Check this rules folder instead of rules.path.
    #[arg(long, value_name = "RULES_DIR")]
    pub rules: Option<std::path::PathBuf>,
    /// 输出格式。Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CalendarArgs {
    /// 年份,如 2026。The year.
    #[arg(long)]
    pub year: i32,
    /// 输出格式。Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// 起始日期(提醒日)。First remind day.
    #[arg(value_parser = date, long)]
    pub from: NaiveDate,

    /// 结束日期(提醒日)。Last remind day.
    #[arg(value_parser = date, long)]
    pub to: NaiveDate,
    /// 输出格式(xlsx 只用于 --summary,需要 --output)。Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// 只看这条规则。Only this rule.
    #[arg(long)]
    pub rule: Option<String>,
    /// 只看这位老同志(身份证号或编号)。Only this person.
    #[arg(long)]
    pub person: Option<String>,
    /// 与修改后的规则文件夹比较:列出修改会增加和减少的提醒。Compare with an edited rules folder: what it adds and removes.
    #[arg(long, value_name = "RULES_DIR", conflicts_with = "summary")]
    pub compare: Option<std::path::PathBuf>,
    /// 工作量预测:按月(或按周)、工作人员和规则统计事项数和提醒数,标出每周走访超过 limits.max_visits_per_week 的。Workload forecast.
    #[arg(long)]
    pub summary: bool,
    /// --summary 的统计周期:month(2026-09)或 week(2026-W38)。Period of --summary.
    #[arg(long, value_enum, default_value = "month", requires = "summary")]
    pub by: SummaryPeriod,
    /// 写入文件而不是屏幕(xlsx 必须指定)。Write to this file.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryPeriod {
    Month,
    Week,
}

#[derive(Debug, Subcommand)]
pub enum DocCommand {
    /// 登记文件。Register a document.
    Add(DocAddArgs),
    /// 列出已登记的文件。List documents.
    List(DocListArgs),
}

#[derive(Debug, Args)]
pub struct DocAddArgs {
    /// 文件标题。The document's title.
    #[arg(long)]
    pub title: String,

    /// 印发日期。Issued on.
    #[arg(value_parser = date, long)]
    pub issued: NaiveDate,

    /// 送达期限。Deliver by.
    #[arg(value_parser = date, long)]
    pub deadline: NaiveDate,
    /// 阅读范围(类别),如 离休,退休
    #[arg(long)]
    pub audience: String,
    /// 最低职级,如 县处级
    #[arg(long)]
    pub min_rank: Option<String>,
}

#[derive(Debug, Args)]
pub struct DocListArgs {
    /// 输出格式。Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// 登记电话、走访或送文(带 --ref:办结该提醒)。Log a contact.
    Add(ContactAddArgs),
    /// 列出台账(按办理日期)。List the ledger.
    List(ContactListArgs),
}

#[derive(Debug, Args)]
pub struct ContactListArgs {
    /// 身份证号或编号:此人的全部记录(不论哪位工作人员)。
    #[arg(long)]
    pub person: Option<String>,
    /// 工号:此人办理的记录。
    #[arg(long)]
    pub staff: Option<String>,
    /// 办理日期不早于。Done on or after.
    #[arg(value_parser = date, long)]
    pub from: Option<NaiveDate>,
    /// 办理日期不晚于。Done on or before.
    #[arg(value_parser = date, long)]
    pub to: Option<NaiveDate>,
    /// 输出格式。Output format.
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
    /// 身份证号或编号
    #[arg(long)]
    pub person: String,
    /// 工号
    #[arg(long)]
    pub staff: String,

    /// 方式:call 电话、visit 走访、deliver 送文。
    #[arg(long, value_enum)]
    pub kind: ContactKind,
    /// 办理日期,默认今天。Default: today.
    #[arg(value_parser = date, long)]
    pub on: Option<NaiveDate>,

    /// 备注。A note.
    #[arg(long)]
    pub note: Option<String>,
    /// 提醒编号:同时办结该事项(同 qinqing ack)。
    #[arg(long = "ref", value_name = "REFERENCE")]
    pub reference: Option<String>,
    /// not_done:未能完成(如家中无人),原因写在 --note;记入台账但不算办结。
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
    /// 外出人员的工号。
    #[arg(long, value_name = "工号")]
    pub staff: String,
    /// 代办人员的工号。
    #[arg(long, value_name = "工号")]
    pub to: String,

    /// 代办的第一天。The first day covered.
    #[arg(value_parser = date, long)]
    pub from: NaiveDate,
    /// 代办的最后一天。The last day covered.
    #[arg(value_parser = date, long)]
    pub until: NaiveDate,
}

#[derive(Debug, Args)]
pub struct PauseArgs {
    /// 身份证号或编号
    #[arg(long)]
    pub person: String,

    /// 暂停的第一天。The first day paused.
    #[arg(value_parser = date, long)]
    pub from: NaiveDate,
    /// 暂停的最后一天(默认一直暂停)。The last day paused.
    #[arg(value_parser = date, long)]
    pub until: Option<NaiveDate>,
    /// 原因,如 异地居住、随子女外出。
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct AssignArgs {
    /// 身份证号或编号
    #[arg(long)]
    pub person: String,
    /// 工号,两位联系人用逗号分隔。
    #[arg(long, value_name = "工号[,工号]", value_delimiter = ',')]
    pub staff: Vec<String>,
    /// 新联系人开始负责的日期(默认今天)。
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
    /// 落实情况:按工作人员和规则统计应办、按时、逾期办、未办、未到期、暂停。Coverage.
    Coverage(CoverageArgs),
    /// 一段时间的台账(全部联系和未能完成的记录)。The ledger.
    Ledger(LedgerArgs),
    /// 审计日志:谁在何时导出了哪份报表。The audit log.
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("period").required(true).args(["month", "year", "from"])))]
pub struct CoverageArgs {
    /// 月份,如 2026-09。
    #[arg(long, value_name = "YYYY-MM", conflicts_with_all = ["year", "from", "to"])]
    pub month: Option<String>,

    /// 年份,如 2026。A year.
    #[arg(long, value_name = "YYYY", conflicts_with_all = ["from", "to"])]
    pub year: Option<i32>,
    /// 起始日期(与 --to 一起用)。
    #[arg(value_parser = date, long, requires = "to")]
    pub from: Option<NaiveDate>,

    /// 结束日期(与 --from 一起用)。
    #[arg(value_parser = date, long, requires = "from")]
    pub to: Option<NaiveDate>,
    /// 统计截至哪天办理的(默认今天)。
    #[arg(value_parser = date, long = "as-of", value_name = "DATE")]
    pub as_of: Option<NaiveDate>,
    /// 只统计这位工作人员(工号)。
    #[arg(long, value_name = "工号")]
    pub staff: Option<String>,
    /// 输出格式(xlsx 需要 --output)。Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// 写入文件而不是屏幕(xlsx 必须指定)。
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LedgerArgs {
    /// 起始日期(办理日期)。Done on or after.
    #[arg(value_parser = date, long)]
    pub from: NaiveDate,

    /// 结束日期(办理日期)。Done on or before.
    #[arg(value_parser = date, long)]
    pub to: NaiveDate,
    /// 只列这位工作人员办理的(工号)。
    #[arg(long, value_name = "工号")]
    pub staff: Option<String>,
    /// 输出格式(xlsx 需要 --output)。Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
    /// 写入文件而不是屏幕(xlsx 必须指定)。
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// 只列这天以后的记录。
    #[arg(value_parser = date, long)]
    pub from: Option<NaiveDate>,
    /// 输出格式。Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum EventCommand {
    /// 登记事件:更新老同志信息并立即安排提醒。Record an event.
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
    /// 身份证号或编号
    #[arg(long)]
    pub person: String,

    /// 事件:hospitalised 住院、discharged 出院、deceased 去世、hardship 困难、complaint 反映问题。
    #[arg(long, value_enum)]
    pub kind: EventKind,
    /// 发生日期(不能是将来)。
    #[arg(value_parser = date, long)]
    pub on: NaiveDate,

    /// 备注。A note.
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// 只安排和发送一次,然后退出。One tick and one round, then exit.
    #[arg(long)]
    pub once: bool,
    /// 这次运行的时间,如 2026-09-18T08:30:00+08:00。
    #[arg(long)]
    pub now: Option<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// 输出格式。Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct AckArgs {
    /// 提醒里的提醒编号。
    pub reference: String,
    /// 办理人的工号。
    #[arg(long)]
    pub by: Option<String>,
    /// 办理日期(默认今天)。
    #[arg(value_parser = date, long)]
    pub on: Option<NaiveDate>,
    /// 办理方式(默认为提醒要求的方式)。
    #[arg(long, value_enum)]
    pub kind: Option<ContactKind>,

    /// 备注。A note.
    #[arg(long)]
    pub note: Option<String>,
}

#[derive(Debug, Args)]
pub struct TestSendArgs {
    /// 工号
    #[arg(long)]
    pub staff: String,
    /// 渠道:console、email、sms、webhook、wecom、dingtalk、feishu。
    #[arg(long)]
    pub channel: String,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every flag and argument of every command says what it is for.
    #[test]
    fn every_flag_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} --{id}"));
                }
                // Only these are positional; everything else is a --flag.
                if a.is_positional() && !["file", "reference", "shell"].contains(&id) {
                    missing.push(format!("{path} {id} is positional, not --{id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() && sub.get_name() != "help" {
                    missing.push(format!("{path} {} (no about)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "qinqing", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:#?}");
    }
}
