//! The rule engine: loads `rules/*.rhai`, sandboxes and compiles each once, and turns
//! (person, year) into occasions. The contract is in `rules/README.md`: a `RULE` map
//! and `fn occasions(p, year)`. Scripts never see files, the network or the clock.
//!
//! A broken file is reported (file, line, column, what is wrong) and the others still
//! load; on reload the last good version of a broken file is kept.
//!
//! The rooms: `engine` (the sandboxed Rhai engine, its limits and error wording),
//! `compile` (reading files, RULE validation, the load-time trial run), `evaluate`
//! (one rule × person × year, and the script's output turned into [`Occasion`]s),
//! `cache` (occasions kept across ticks), `memo` (results shared between persons who
//! read the same), `api` (what scripts can call and read) and `cases` (the rule test
//! cases). This folder knows persons only as [`PersonData`]: it never imports the
//! store, delivery, the service layer or the CLI.

pub mod api;
mod cache;
mod cases;
mod compile;
mod engine;
mod evaluate;
mod memo;

use std::sync::Arc;

use chrono::NaiveDate;
use rhai::{AST, Engine};
use serde::Serialize;

pub use api::{Interner, PersonData, PersonView, PlanPerson, SharedDocuments};
pub use cache::{Layout, OccasionCache, PersonCache};
pub use cases::CaseResult;
pub use engine::{MAX_ARRAY, MAX_CALL_LEVELS, MAX_MAP, MAX_OPERATIONS, MAX_STRING, build_engine};
pub use memo::{MEMO_MAX_NODES, Memo};

use engine::Diagnoser;

use crate::calendar::WorkCalendar;

/// The shipped rules, compiled into the binary for when no rules folder is configured.
pub const BUILTIN_RULES: &[(&str, &str)] = &[
    (
        "festival-visit.rhai",
        include_str!("../../rules/festival-visit.rhai"),
    ),
    (
        "birthday-milestone.rhai",
        include_str!("../../rules/birthday-milestone.rhai"),
    ),
    (
        "monthly-call.rhai",
        include_str!("../../rules/monthly-call.rhai"),
    ),
    (
        "document-delivery.rhai",
        include_str!("../../rules/document-delivery.rhai"),
    ),
    (
        "hospital-visit.rhai",
        include_str!("../../rules/hospital-visit.rhai"),
    ),
    (
        "condolence.rhai",
        include_str!("../../rules/condolence.rhai"),
    ),
    (
        "complaint-visit.rhai",
        include_str!("../../rules/complaint-visit.rhai"),
    ),
    (
        "hardship-visit.rhai",
        include_str!("../../rules/hardship-visit.rhai"),
    ),
    (
        "study-at-home.rhai",
        include_str!("../../rules/study-at-home.rhai"),
    ),
    (
        "leader-contact.rhai",
        include_str!("../../rules/leader-contact.rhai"),
    ),
    (
        "health-check.rhai",
        include_str!("../../rules/health-check.rhai"),
    ),
];

/// The shipped rules' test cases.
pub const BUILTIN_CASES: &[(&str, &str)] = &[
    (
        "tests/festival-visit.toml",
        include_str!("../../rules/tests/festival-visit.toml"),
    ),
    (
        "tests/birthday-milestone.toml",
        include_str!("../../rules/tests/birthday-milestone.toml"),
    ),
    (
        "tests/monthly-call.toml",
        include_str!("../../rules/tests/monthly-call.toml"),
    ),
    (
        "tests/document-delivery.toml",
        include_str!("../../rules/tests/document-delivery.toml"),
    ),
    (
        "tests/hospital-visit.toml",
        include_str!("../../rules/tests/hospital-visit.toml"),
    ),
    (
        "tests/condolence.toml",
        include_str!("../../rules/tests/condolence.toml"),
    ),
    (
        "tests/complaint-visit.toml",
        include_str!("../../rules/tests/complaint-visit.toml"),
    ),
    (
        "tests/hardship-visit.toml",
        include_str!("../../rules/tests/hardship-visit.toml"),
    ),
    (
        "tests/study-at-home.toml",
        include_str!("../../rules/tests/study-at-home.toml"),
    ),
    (
        "tests/leader-contact.toml",
        include_str!("../../rules/tests/leader-contact.toml"),
    ),
    (
        "tests/health-check.toml",
        include_str!("../../rules/tests/health-check.toml"),
    ),
];

/// A rule file that could not be loaded, in words a bureau can act on.
#[derive(Debug, Clone, thiserror::Error, Serialize)]
#[error("{file}{}: {message}", location(*line, *column))]
pub struct LoadError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(", line {l}, column {c} (第{l}行第{c}列)"),
        (Some(l), None) => format!(", line {l} (第{l}行)"),
        _ => String::new(),
    }
}

/// A script failure while evaluating one person; counted, logged, never fatal.
#[derive(Debug, Clone, thiserror::Error)]
#[error("rule {rule}{}: person #{person_id}: {message}", location(*line, *column))]
pub struct RunError {
    pub rule: String,
    pub person_id: i64,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

/// The `RULE` map of a script.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub file: String,
    /// Days before the occasion; each is one reminder stage.
    pub remind_before: Vec<i64>,
    /// Days after the occasion when an unacknowledged occasion escalates; None = never.
    pub escalate_after: Option<i64>,
    /// Days after the first escalation when a still open occasion escalates again,
    /// to the supervisor's supervisor (`escalate_again_after`, else
    /// `schedule.second_escalation_days`); None = never.
    pub escalate_again_after: Option<i64>,
    /// Urgent rules send at once (quiet hours aside) and their days never move.
    pub urgent: bool,
    /// RULE `enabled` (default true): a rule shipped off is compiled and its cases
    /// run, but it plans nothing until a bureau sets `enabled: true`.
    pub enabled: bool,
    /// Allowed channels, in no particular order; empty = any.
    pub channels: Vec<String>,
    /// Occasions and stages after the person's death are kept (the condolence).
    pub after_death: bool,
    /// What to do with a reminder whose day passed before it could be planned (an
    /// event entered late, downtime): None = the default, `send` for urgent rules and
    /// occasions with a window, `skip` for the others.
    pub catch_up: Option<CatchUp>,
    /// How many days late a reminder may still go out; None = the default
    /// (`schedule.catch_up_days`; an urgent rule: as long as it is useful).
    pub catch_up_days: Option<i64>,
    /// For `after_death` rules: a late reminder goes out only within this many days
    /// of the death (RULE `after_death_days`, default 30).
    pub after_death_days: i64,
    /// Hash of the script text, part of the occasion cache key.
    #[serde(skip)]
    pub hash: u64,
    /// `id` and `channels` shared by every stage of the rule.
    #[serde(skip)]
    pub shared_id: Arc<str>,
    #[serde(skip)]
    pub shared_channels: Arc<[String]>,
    #[serde(skip)]
    ast: Arc<AST>,
}

/// RULE `catch_up`: a reminder planned after its day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CatchUp {
    /// Sent late (marked late) while within the catch-up days and still useful.
    Send,
    /// Sent late only while its occasion is still ahead; skipped (recorded missed)
    /// once the occasion has passed.
    Skip,
}

impl CatchUp {
    /// The policy for one occasion of `rule`: the rule's own, else `send` for urgent
    /// rules and occasions with a window, `skip` for the rest.
    pub fn of(rule: &Rule, occ_urgent: bool, has_window: bool) -> CatchUp {
        rule.catch_up
            .unwrap_or(if rule.urgent || occ_urgent || has_window {
                CatchUp::Send
            } else {
                CatchUp::Skip
            })
    }
}

/// One occasion produced by a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occasion {
    pub date: NaiveDate,
    pub title: String,
    pub kind: String,
    /// Sub-key when a person has several occasions of a rule on one day.
    pub key: String,
    /// Explicit remind days replacing the rule's `remind_before`.
    pub remind_on: Option<Vec<NaiveDate>>,
    pub urgent: bool,
    /// Contact kinds (call, visit) that satisfy the occasion within `window`.
    pub satisfied_by: Vec<String>,
    pub window: Option<(NaiveDate, NaiveDate)>,
    /// The last day a late reminder is still worth sending (occasion field `until`),
    /// e.g. the discharge from hospital.
    pub until: Option<NaiveDate>,
    /// Whom the reminders go to (occasion key `to`): `None` or "staff" for the
    /// assigned 联系人, "supervisor", a 角色 from the staff sheet, or a 工号; resolved
    /// by the planner against the staff list.
    pub to: Option<String>,
}

/// The loaded rules, their load errors and their test cases.
pub struct RuleSet {
    engine: Arc<Engine>,
    /// The same engine with a stepping debugger, used only to find where a script
    /// hit a limit (Rhai reports those without a position).
    diagnose: Arc<Diagnoser>,
    pub rules: Vec<Rule>,
    pub errors: Vec<LoadError>,
    cases: Vec<(String, String)>,
    calendar: Arc<WorkCalendar>,
    /// 工号 that escalations go to for staff without 上级 (`[escalation] fallback`,
    /// set by the service with the config's other defaults).
    pub escalation_fallback: Option<String>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field(
                "rules",
                &self.rules.iter().map(|r| &r.id).collect::<Vec<_>>(),
            )
            .field("errors", &self.errors)
            .finish()
    }
}

impl RuleSet {
    pub fn calendar(&self) -> &Arc<WorkCalendar> {
        &self.calendar
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Runs the rule test cases (`rules/tests/*.toml`).
    /// The same rules with other load errors: a reload that failed keeps the
    /// running rules and shows why the new ones were not taken.
    pub fn with_errors(&self, errors: Vec<LoadError>) -> RuleSet {
        RuleSet {
            engine: self.engine.clone(),
            diagnose: self.diagnose.clone(),
            rules: self.rules.clone(),
            errors,
            cases: self.cases.clone(),
            calendar: self.calendar.clone(),
            escalation_fallback: self.escalation_fallback.clone(),
        }
    }

    pub fn run_cases(&self) -> Vec<CaseResult> {
        cases::run(self, &self.cases)
    }
}

#[cfg(test)]
mod tests;

/// `;您是不是要写 `remind_before`?` when `word` is a small typo of one of `known`,
/// else "".
pub(crate) fn suggest(word: &str, known: &[&str]) -> String {
    fn distance(a: &str, b: &str) -> usize {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut cur = vec![i + 1; b.len() + 1];
            for (j, cb) in b.iter().enumerate() {
                cur[j + 1] = (prev[j] + usize::from(ca != cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1);
            }
            prev = cur;
        }
        prev[b.len()]
    }
    known
        .iter()
        .map(|k| (distance(word, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| format!(";您是不是要写 `{k}`?"))
        .unwrap_or_default()
}
