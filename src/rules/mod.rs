//! The rule engine: loads `rules/*.rhai`, sandboxes and compiles each once, and turns
//! (person, year) into occasions. The contract is in `rules/README.md`: a `RULE` map
//! and `fn occasions(p, year)`. Scripts never see files, the network or the clock.
//!
//! A broken file is reported (file, line, column, what is wrong) and the others still
//! load; on reload the last good version of a broken file is kept.

pub mod api;
mod cases;

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use rhai::{AST, CallFnOptions, Dynamic, Engine, EvalAltResult, Map, Position, Scope};
use serde::Serialize;

pub use api::{Interner, PersonData, PersonView, PlanPerson, SharedDocuments};
pub use cases::CaseResult;

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
];

/// Sandbox limits (per call of `occasions`).
pub const MAX_OPERATIONS: u64 = 200_000;
pub const MAX_CALL_LEVELS: usize = 32;
pub const MAX_STRING: usize = 4_096;
pub const MAX_ARRAY: usize = 4_096;
pub const MAX_MAP: usize = 256;

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
    /// Urgent rules send at once (quiet hours aside) and their days never move.
    pub urgent: bool,
    /// Allowed channels, in no particular order; empty = any.
    pub channels: Vec<String>,
    /// Occasions and stages after the person's death are kept (the condolence).
    pub after_death: bool,
    /// Hash of the script text, part of the occasion cache key.
    pub hash: u64,
    /// `id` and `channels` shared by every stage of the rule.
    #[serde(skip)]
    pub shared_id: Arc<str>,
    #[serde(skip)]
    pub shared_channels: Arc<[String]>,
    #[serde(skip)]
    ast: Arc<AST>,
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
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleStatus {
    pub id: String,
    pub title: String,
    pub file: String,
    pub remind_before: Vec<i64>,
    pub escalate_after: Option<i64>,
    pub urgent: bool,
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

/// Re-runs a failed call step by step to learn the line where it stopped.
struct Diagnoser {
    engine: Engine,
    last: Arc<std::sync::Mutex<Position>>,
    running: std::sync::Mutex<()>,
}

impl Diagnoser {
    fn new(cal: Arc<WorkCalendar>) -> Diagnoser {
        let last = Arc::new(std::sync::Mutex::new(Position::NONE));
        let mut engine = build_engine(cal);
        let seen = last.clone();
        // Rhai marks this API "volatile", not deprecated; it is only used for diagnostics.
        #[allow(deprecated)]
        engine.register_debugger(
            |_, debugger| debugger,
            move |_, event, _, _, pos| {
                if matches!(event, rhai::debugger::DebuggerEvent::Step)
                    && !pos.is_none()
                    && let Ok(mut p) = seen.lock()
                {
                    *p = pos;
                }
                Ok(rhai::debugger::DebuggerCommand::StepInto)
            },
        );
        Diagnoser {
            engine,
            last,
            running: std::sync::Mutex::new(()),
        }
    }

    /// The last position reached before the call failed.
    fn locate(&self, ast: &AST, person: &Arc<PersonData>, year: i32) -> Position {
        let _one_at_a_time = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Ok(mut p) = self.last.lock() {
            *p = Position::NONE;
        }
        let mut scope = Scope::new();
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let _ = self.engine.call_fn_with_options::<Dynamic>(
            options,
            &mut scope,
            ast,
            "occasions",
            (PersonView(person.clone()), year as i64),
        );
        self.last.lock().map(|p| *p).unwrap_or(Position::NONE)
    }
}

/// The sandboxed engine: limits, strict variables, no eval, print/debug to the log.
pub fn build_engine(cal: Arc<WorkCalendar>) -> Engine {
    let mut engine = Engine::new();
    engine.set_max_operations(MAX_OPERATIONS);
    engine.set_max_call_levels(MAX_CALL_LEVELS);
    engine.set_max_expr_depths(64, 32);
    engine.set_max_string_size(MAX_STRING);
    engine.set_max_array_size(MAX_ARRAY);
    engine.set_max_map_size(MAX_MAP);
    // Rhai interns every interpolated string (each occasion title) in one table behind
    // a lock shared by all threads; titles are all different, so it only costs.
    engine.set_max_strings_interned(0);
    engine.set_strict_variables(true);
    engine.disable_symbol("eval");
    engine
        .on_print(|s| tracing::debug!(target: "qinqing::rules", "print: {}", crate::mask::text(s)));
    engine.on_debug(|s, src, pos| {
        tracing::debug!(target: "qinqing::rules", source = src.unwrap_or(""), %pos, "debug: {}", crate::mask::text(s))
    });
    api::register(&mut engine, cal);
    engine
}

fn pos_of(p: Position) -> (Option<usize>, Option<usize>) {
    (p.line(), p.position())
}

/// Words a bureau staff member can act on, for the errors they will meet most.
fn explain(e: &EvalAltResult) -> String {
    match e {
        EvalAltResult::ErrorTooManyOperations(_) => {
            format!(
                "脚本运行步数超过上限 {MAX_OPERATIONS}(是否有死循环?) script ran too long (endless loop?)"
            )
        }
        EvalAltResult::ErrorStackOverflow(_) => {
            format!("函数调用层数超过上限 {MAX_CALL_LEVELS}(是否无限递归?) too deep recursion")
        }
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            format!("数据超过上限 data too large: {what}")
        }
        EvalAltResult::ErrorFunctionNotFound(sig, _) => {
            format!("找不到函数 unknown function: {sig}")
        }
        EvalAltResult::ErrorVariableNotFound(v, _) => format!("未定义的变量 unknown variable: {v}"),
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => explain(inner),
        other => other.to_string(),
    }
}

fn innermost_position(e: &EvalAltResult) -> Position {
    match e {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, pos) => {
            let p = innermost_position(inner);
            if p.is_none() { *pos } else { p }
        }
        other => other.position(),
    }
}

fn hash_text(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

impl RuleSet {
    /// The shipped rules compiled into the binary.
    pub fn builtin(cal: WorkCalendar) -> RuleSet {
        let files = BUILTIN_RULES
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        let cases = BUILTIN_CASES
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        RuleSet::from_sources(files, cases, cal, None)
    }

    /// Every `*.rhai` in `dir` (and cases in `dir/tests/*.toml`). `previous` keeps the
    /// last good version of a file that is now broken.
    pub fn load_dir(dir: &Path, cal: WorkCalendar, previous: Option<&RuleSet>) -> RuleSet {
        let mut files = Vec::new();
        let mut errors = Vec::new();
        match read_sorted(dir, "rhai") {
            Ok(list) => {
                for path in list {
                    match std::fs::read_to_string(&path) {
                        Ok(text) => files.push((display(&path), text)),
                        Err(e) => errors.push(LoadError {
                            file: display(&path),
                            line: None,
                            column: None,
                            message: format!("cannot read: {e}"),
                        }),
                    }
                }
            }
            Err(e) => errors.push(LoadError {
                file: display(dir),
                line: None,
                column: None,
                message: format!("cannot read the rules folder: {e} (rules.path)"),
            }),
        }
        let cases = read_sorted(&dir.join("tests"), "toml")
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (display(&p), t)))
            .collect();
        let mut set = RuleSet::from_sources(files, cases, cal, previous);
        set.errors.splice(0..0, errors);
        set
    }

    pub fn from_sources(
        files: Vec<(String, String)>,
        cases: Vec<(String, String)>,
        cal: WorkCalendar,
        previous: Option<&RuleSet>,
    ) -> RuleSet {
        let calendar = Arc::new(cal);
        let engine = Arc::new(build_engine(calendar.clone()));
        let diagnose = Arc::new(Diagnoser::new(calendar.clone()));
        let mut rules: Vec<Rule> = Vec::new();
        let mut errors = Vec::new();
        for (file, text) in files {
            match compile_rule(&engine, &file, &text) {
                Ok(rule) => {
                    if let Some(other) = rules.iter().find(|r| r.id == rule.id) {
                        errors.push(LoadError {
                            file: file.clone(),
                            line: None,
                            column: None,
                            message: format!(
                                "规则编号重复 rule id {:?} is already used by {}",
                                rule.id, other.file
                            ),
                        });
                        continue;
                    }
                    rules.push(rule);
                }
                Err(e) => {
                    errors.push(e);
                    if let Some(prev) =
                        previous.and_then(|p| p.rules.iter().find(|r| r.file == file))
                        && !rules.iter().any(|r| r.id == prev.id)
                    {
                        tracing::warn!(file = %file, rule = %prev.id, "keeping the last good version of a broken rule");
                        rules.push(prev.clone());
                    }
                }
            }
        }
        let mut set = RuleSet {
            engine,
            diagnose,
            rules,
            errors,
            cases,
            calendar,
        };
        set.smoke_test();
        set
    }

    /// Runs each rule once on a synthetic person, so a script that calls an unknown
    /// function or never ends is rejected at load, not at 07:00 on a festival.
    fn smoke_test(&mut self) {
        let probe = Arc::new(PersonData::new(
            0,
            cases::probe_person(),
            true,
            vec![(
                "hospitalised".into(),
                NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            )],
            Arc::new(Vec::new()),
        ));
        let mut keep = Vec::with_capacity(self.rules.len());
        for rule in std::mem::take(&mut self.rules) {
            match self.eval(&rule, &probe, 2026) {
                Ok(_) => keep.push(rule),
                Err(e) => self.errors.push(LoadError {
                    file: rule.file.clone(),
                    line: e.line,
                    column: e.column,
                    message: format!("试运行失败 failed on a test person: {}", e.message),
                }),
            }
        }
        self.rules = keep;
    }

    pub fn calendar(&self) -> &Arc<WorkCalendar> {
        &self.calendar
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn statuses(&self) -> Vec<RuleStatus> {
        self.rules
            .iter()
            .map(|r| RuleStatus {
                id: r.id.clone(),
                title: r.title.clone(),
                file: r.file.clone(),
                remind_before: r.remind_before.clone(),
                escalate_after: r.escalate_after,
                urgent: r.urgent,
            })
            .collect()
    }

    /// The occasions of one rule for one person in one year.
    pub fn eval(
        &self,
        rule: &Rule,
        person: &Arc<PersonData>,
        year: i32,
    ) -> Result<Vec<Occasion>, RunError> {
        self.eval_traced(rule, person, year).0
    }

    /// As [`RuleSet::eval`], also returning what the script read of the person (see
    /// [`Memo`]).
    pub fn eval_traced(
        &self,
        rule: &Rule,
        person: &Arc<PersonData>,
        year: i32,
    ) -> (Result<Vec<Occasion>, RunError>, api::Trace) {
        let mut scope = Scope::new();
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let (result, trace) = api::traced(|| {
            self.engine.call_fn_with_options::<Dynamic>(
                options,
                &mut scope,
                &rule.ast,
                "occasions",
                (PersonView(person.clone()), year as i64),
            )
        });
        let fail = |e: &EvalAltResult| {
            let mut pos = innermost_position(e);
            if pos.is_none() {
                pos = self.diagnose.locate(&rule.ast, person, year);
            }
            let (line, column) = pos_of(pos);
            RunError {
                rule: rule.id.clone(),
                person_id: person.internal_id,
                line,
                column,
                message: explain(e),
            }
        };
        let value = match result {
            Ok(v) => v,
            Err(e) => return (Err(fail(&e)), trace),
        };
        let out = convert_occasions(rule, value).map_err(|message| RunError {
            rule: rule.id.clone(),
            person_id: person.internal_id,
            line: None,
            column: None,
            message,
        });
        (out, trace)
    }

    /// Runs the rule test cases (`rules/tests/*.toml`).
    pub fn run_cases(&self) -> Vec<CaseResult> {
        cases::run(self, &self.cases)
    }
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

fn read_sorted(dir: &Path, ext: &str) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    Ok(out)
}

fn compile_rule(engine: &Engine, file: &str, text: &str) -> Result<Rule, LoadError> {
    let fail = |line: Option<usize>, column: Option<usize>, message: String| LoadError {
        file: file.to_string(),
        line,
        column,
        message,
    };
    let ast = engine.compile(text).map_err(|e| {
        let (l, c) = pos_of(e.position());
        fail(l, c, format!("语法错误 syntax error: {}", e.err_type()))
    })?;
    if !ast
        .iter_functions()
        .any(|f| f.name == "occasions" && f.params.len() == 2)
    {
        return Err(fail(
            None,
            None,
            "缺少函数 fn occasions(p, year) — every rule must define it".into(),
        ));
    }
    // Evaluate the top level once to read the RULE constant.
    let mut scope = Scope::new();
    engine.run_ast_with_scope(&mut scope, &ast).map_err(|e| {
        let (l, c) = pos_of(innermost_position(&e));
        fail(l, c, explain(&e))
    })?;
    let map: Map = scope.get_value::<Map>("RULE").ok_or_else(|| {
        fail(
            None,
            None,
            "缺少 const RULE = #{ id: …, title: … } at the top of the file".into(),
        )
    })?;
    let get_str =
        |k: &str| -> Option<String> { map.get(k).and_then(|v| v.clone().into_string().ok()) };
    let id = get_str("id")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| fail(None, None, "RULE.id is missing or not a string".into()))?;
    let title = get_str("title").unwrap_or_else(|| id.clone());
    let ints = |k: &str| -> Result<Vec<i64>, LoadError> {
        match map.get(k) {
            None => Ok(Vec::new()),
            Some(v) => v
                .clone()
                .into_typed_array::<i64>()
                .map_err(|_| {
                    fail(
                        None,
                        None,
                        format!("RULE.{k} must be a list of whole numbers of days, like [7, 1]"),
                    )
                })
                .and_then(|xs| {
                    if xs.iter().any(|x| *x < 0) {
                        Err(fail(None, None, format!("RULE.{k} must not be negative")))
                    } else {
                        Ok(xs)
                    }
                }),
        }
    };
    let remind_before = ints("remind_before")?;
    let escalate_after = match map.get("escalate_after") {
        None => Some(3),
        Some(v) if v.is_unit() => None,
        Some(v) if v.is_bool() => v.as_bool().ok().filter(|b| *b).map(|_| 3),
        Some(v) => Some(v.as_int().map_err(|_| {
            fail(
                None,
                None,
                "RULE.escalate_after must be a number of days, or false".into(),
            )
        })?),
    };
    let urgent = match map.get("urgent") {
        None => false,
        Some(v) => v
            .as_bool()
            .map_err(|_| fail(None, None, "RULE.urgent must be true or false".into()))?,
    };
    let channels = match map.get("channels") {
        None => Vec::new(),
        Some(v) => v
            .clone()
            .into_typed_array::<rhai::ImmutableString>()
            .map_err(|_| {
                fail(
                    None,
                    None,
                    "RULE.channels must be a list of channel names".into(),
                )
            })?
            .into_iter()
            .map(|s| s.to_string())
            .collect(),
    };
    let after_death = match map.get("after_death") {
        None => false,
        Some(v) => v
            .as_bool()
            .map_err(|_| fail(None, None, "RULE.after_death must be true or false".into()))?,
    };
    Ok(Rule {
        after_death,
        shared_id: id.as_str().into(),
        shared_channels: channels.as_slice().into(),
        id,
        title,
        file: file.to_string(),
        remind_before,
        escalate_after,
        urgent,
        channels,
        hash: hash_text(text),
        ast: Arc::new(ast),
    })
}

fn convert_occasions(rule: &Rule, value: Dynamic) -> Result<Vec<Occasion>, String> {
    if value.is_unit() {
        return Ok(Vec::new());
    }
    let list = value
        .into_array()
        .map_err(|t| format!("occasions() must return a list of maps, got {t}"))?;
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        let m = item
            .try_cast::<Map>()
            .ok_or("each occasion must be a map like #{ date: …, title: … }")?;
        out.push(convert_one(rule, &m)?);
    }
    Ok(out)
}

fn get_date(m: &Map, k: &str) -> Result<Option<NaiveDate>, String> {
    match m.get(k) {
        None => Ok(None),
        Some(v) if v.is_unit() => Ok(None),
        Some(v) => v.read_lock::<NaiveDate>().map(|d| Some(*d)).ok_or_else(|| {
            format!("occasion.{k} must be a Date (use date(2026, 9, 18) or festival(…))")
        }),
    }
}

fn convert_one(rule: &Rule, m: &Map) -> Result<Occasion, String> {
    let date = get_date(m, "date")?.ok_or("occasion.date is required")?;
    // A Date shows as 2026-09-18 (Rhai's own Display would print the type name).
    let text = |k: &str| -> Option<String> {
        m.get(k)
            .filter(|v| !v.is_unit())
            .map(|v| match v.read_lock::<NaiveDate>() {
                Some(d) => d.to_string(),
                None => v.to_string(),
            })
    };
    let remind_on = match m.get("remind_on") {
        None => None,
        Some(v) if v.is_unit() => None,
        Some(v) => {
            let arr = v
                .read_lock::<rhai::Array>()
                .ok_or("occasion.remind_on must be a list of Dates")?;
            let mut ds = Vec::with_capacity(arr.len());
            for d in arr.iter() {
                ds.push(
                    *d.read_lock::<NaiveDate>()
                        .ok_or("occasion.remind_on must be a list of Dates")?,
                );
            }
            Some(ds)
        }
    };
    let satisfied_by = match m.get("satisfied_by") {
        None => Vec::new(),
        Some(v) => {
            const BAD: &str = "occasion.satisfied_by must be a list like [\"call\", \"visit\"]";
            let arr = v.read_lock::<rhai::Array>().ok_or(BAD)?;
            let mut kinds = Vec::with_capacity(arr.len());
            for k in arr.iter() {
                kinds.push(
                    k.read_lock::<rhai::ImmutableString>()
                        .ok_or(BAD)?
                        .to_string(),
                );
            }
            kinds
        }
    };
    let window = match m.get("window") {
        None => None,
        Some(v) if v.is_unit() => None,
        Some(v) if v.is_string() => {
            let s = v.to_string();
            match s.as_str() {
                "month" => {
                    let first = date.with_day0(0).expect("first of month");
                    let next = first
                        .checked_add_months(chrono::Months::new(1))
                        .expect("next month");
                    Some((first, next.pred_opt().expect("last day")))
                }
                other => {
                    return Err(format!(
                        "occasion.window {other:?}: use \"month\" or #{{ from: …, to: … }}"
                    ));
                }
            }
        }
        Some(v) => {
            let w = v
                .read_lock::<Map>()
                .ok_or("occasion.window must be \"month\" or #{ from, to }")?;
            let from = get_date(&w, "from")?.ok_or("occasion.window.from is required")?;
            let to = get_date(&w, "to")?.ok_or("occasion.window.to is required")?;
            Some((from, to))
        }
    };
    let urgent = match m.get("urgent") {
        Some(v) if v.is_bool() => v.as_bool().unwrap_or(false),
        _ => rule.urgent,
    };
    Ok(Occasion {
        date,
        title: text("title").unwrap_or_else(|| rule.title.clone()),
        kind: text("kind").unwrap_or_else(|| "visit".into()),
        key: text("key").unwrap_or_default(),
        remind_on,
        urgent,
        satisfied_by,
        window,
    })
}

use chrono::Datelike as _;

/// Occasions for many persons, computed once per (rule hash, person version,
/// documents version, year) and reused by later ticks.
///
/// Compact, for a roster of a million: one map entry per person, holding only the
/// person's non-empty results, by slot in a shared layout (the (rule hash, year) pairs
/// of one planning run); a slot of the layout that is not listed is an empty result.
/// Replaced whole when anything of the person's is recomputed, so stale versions,
/// rules and years do not linger.
pub struct OccasionCache {
    persons: HashMap<i64, PersonCache>,
    layouts: Vec<Box<[(u64, i32)]>>,
    len: usize,
    /// (rule hash, documents version, year) → results shared between persons.
    memos: HashMap<(u64, u64, i32), Arc<std::sync::RwLock<Memo>>>,
    empty: Arc<Vec<Occasion>>,
    /// Marks a slot whose evaluation failed: not cached, tried again next time.
    failed: Arc<Vec<Occasion>>,
}

impl Default for OccasionCache {
    fn default() -> OccasionCache {
        OccasionCache {
            persons: HashMap::new(),
            layouts: Vec::new(),
            len: 0,
            memos: HashMap::new(),
            empty: Arc::new(Vec::new()),
            failed: Arc::new(Vec::new()),
        }
    }
}

/// One person's cached evaluations, valid for one person version and one documents
/// version.
pub struct PersonCache {
    version: i64,
    documents_version: u64,
    layout: u32,
    /// (slot in the layout, occasions): the non-empty and the failed ones.
    lists: Box<[(u16, Arc<Vec<Occasion>>)]>,
}

/// A planning run's (rule hash, year) pairs, in slot order.
pub struct Layout(u32);

impl OccasionCache {
    /// The cached occasions of one person, rule and year, if still valid.
    pub fn get(
        &self,
        person: Option<&PersonCache>,
        rule_hash: u64,
        version: i64,
        documents_version: u64,
        year: i32,
    ) -> Option<Arc<Vec<Occasion>>> {
        let p = person?;
        if p.version != version || p.documents_version != documents_version {
            return None;
        }
        let slot = self.layouts[p.layout as usize]
            .iter()
            .position(|s| *s == (rule_hash, year))? as u16;
        match p.lists.iter().find(|(s, _)| *s == slot) {
            Some((_, v)) if Arc::ptr_eq(v, &self.failed) => None,
            Some((_, v)) => Some(v.clone()),
            None => Some(self.empty.clone()),
        }
    }

    /// The shared empty result.
    pub fn empty(&self) -> Arc<Vec<Occasion>> {
        self.empty.clone()
    }

    /// The layout for these (rule hash, year) slots, made once.
    pub fn layout(&mut self, slots: &[(u64, i32)]) -> Layout {
        if let Some(i) = self.layouts.iter().position(|l| **l == *slots) {
            return Layout(i as u32);
        }
        self.layouts.push(slots.into());
        Layout(self.layouts.len() as u32 - 1)
    }

    /// The cached evaluations of one person (by internal id).
    pub fn person(&self, internal_id: i64) -> Option<&PersonCache> {
        self.persons.get(&internal_id)
    }

    /// Replaces everything cached for one person: `results[slot]` is the result for
    /// that slot of `layout`, None when its evaluation failed.
    pub fn set_person(
        &mut self,
        internal_id: i64,
        version: i64,
        documents_version: u64,
        layout: &Layout,
        results: &[Option<Arc<Vec<Occasion>>>],
    ) {
        let lists: Box<[(u16, Arc<Vec<Occasion>>)]> = results
            .iter()
            .enumerate()
            .filter_map(|(slot, r)| match r {
                Some(v) if v.is_empty() => None,
                Some(v) => Some((slot as u16, v.clone())),
                None => Some((slot as u16, self.failed.clone())),
            })
            .collect();
        let new = PersonCache {
            version,
            documents_version,
            layout: layout.0,
            lists,
        };
        let count = results.iter().filter(|r| r.is_some()).count();
        self.len += count;
        if let Some(old) = self.persons.insert(internal_id, new) {
            let n = self.layouts[old.layout as usize].len();
            let failed = old
                .lists
                .iter()
                .filter(|(_, v)| Arc::ptr_eq(v, &self.failed))
                .count();
            self.len -= n - failed;
        }
    }

    /// Number of cached (person, rule, year) evaluations.
    pub fn len(&self) -> usize {
        self.len
    }

    fn recount(&mut self) {
        let failed = &self.failed;
        self.len = self
            .persons
            .values()
            .map(|p| {
                self.layouts[p.layout as usize].len()
                    - p.lists
                        .iter()
                        .filter(|(_, v)| Arc::ptr_eq(v, failed))
                        .count()
            })
            .sum();
    }

    /// Number of persons with cached evaluations.
    pub fn persons_len(&self) -> usize {
        self.persons.len()
    }

    /// Keeps only the persons for whom `keep(internal id)` holds.
    pub fn retain_persons(&mut self, keep: impl Fn(i64) -> bool) {
        self.persons.retain(|id, _| keep(*id));
        self.recount();
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Makes a memo for each (rule hash, year) with these documents and drops the
    /// others (rules changed, documents changed, years gone by).
    pub fn prepare_memos(&mut self, rule_hashes: &[u64], documents_version: u64, years: &[i32]) {
        self.memos.retain(|(rule, docs, year), _| {
            *docs == documents_version && rule_hashes.contains(rule) && years.contains(year)
        });
        for &rule in rule_hashes {
            for &year in years {
                self.memos
                    .entry((rule, documents_version, year))
                    .or_default();
            }
        }
    }

    /// The memo of one (rule hash, documents version, year), once prepared.
    pub fn memo(
        &self,
        rule_hash: u64,
        documents_version: u64,
        year: i32,
    ) -> Option<Arc<std::sync::RwLock<Memo>>> {
        self.memos
            .get(&(rule_hash, documents_version, year))
            .cloned()
    }

    /// Forgets persons whose layout reaches before `year` (the next planning run
    /// evaluates them again, mostly from the memos).
    pub fn retain_from(&mut self, year: i32) {
        let layouts = &self.layouts;
        self.persons
            .retain(|_, p| layouts[p.layout as usize].iter().all(|s| s.1 >= year));
        self.recount();
    }
}

/// Results of one rule for one year shared between persons who read the same.
///
/// `occasions(p, year)` is pure and learns about `p` only through recorded reads
/// ([`api::Read`]), so two persons whose reads return the same values get the same
/// occasions. The memo is a decision tree over those reads: walking it for a person
/// answers each read natively (no script) until a stored result or an unseen value;
/// only then does the script run, and its trace extends the tree. A rule that only
/// looks at category, rank and a few flags runs a handful of times for a whole
/// roster; one that reads every person's name runs for everyone, as before. The
/// tree stops growing at [`MEMO_MAX_NODES`].
#[derive(Default)]
pub struct Memo {
    nodes: Vec<MemoNode>,
    root: Option<u32>,
}

/// Nodes above which a memo stops growing (lookups go on).
pub const MEMO_MAX_NODES: usize = 250_000;

enum MemoNode {
    Ask {
        read: api::Read,
        next: HashMap<api::Val, u32>,
    },
    Done(Arc<Vec<Occasion>>),
}

impl Memo {
    /// The stored result for this person, if another person's reads matched theirs.
    pub fn lookup(&self, person: &PersonData) -> Option<Arc<Vec<Occasion>>> {
        let mut at = self.root?;
        loop {
            match &self.nodes[at as usize] {
                MemoNode::Done(r) => return Some(r.clone()),
                MemoNode::Ask { read, next } => at = *next.get(&api::read(person, read))?,
            }
        }
    }

    /// Stores the result of an evaluation with its trace. Returns false when it was
    /// not stored (the memo is full, or the trace disagrees with the tree, which a
    /// pure script cannot do).
    pub fn insert(&mut self, trace: api::Trace, result: Arc<Vec<Occasion>>) -> bool {
        self.insert_steps(Memo::steps(trace), result)
    }

    /// A trace without its repeated reads (a read repeated in one evaluation gives
    /// the same value: the first is kept). Done before taking the memo's lock.
    pub fn steps(trace: api::Trace) -> api::Trace {
        let mut seen = std::collections::HashSet::with_capacity(trace.len());
        trace
            .into_iter()
            .filter(|(r, _)| seen.insert(r.clone()))
            .collect()
    }

    /// As [`Memo::insert`], for a trace already through [`Memo::steps`].
    pub fn insert_steps(&mut self, steps: api::Trace, result: Arc<Vec<Occasion>>) -> bool {
        if self.nodes.len() + steps.len() + 1 > MEMO_MAX_NODES {
            return false;
        }
        let mut at = self.root;
        let mut parent: Option<(u32, api::Val)> = None;
        for (r, v) in steps {
            let here = match at {
                Some(i) => match &self.nodes[i as usize] {
                    MemoNode::Ask { read, .. } if *read == r => i,
                    _ => return false,
                },
                None => self.add(
                    MemoNode::Ask {
                        read: r,
                        next: HashMap::new(),
                    },
                    parent.take(),
                ),
            };
            at = match &self.nodes[here as usize] {
                MemoNode::Ask { next, .. } => next.get(&v).copied(),
                MemoNode::Done(_) => unreachable!("checked above"),
            };
            parent = Some((here, v));
        }
        match at {
            Some(i) => matches!(self.nodes[i as usize], MemoNode::Done(_)),
            None => {
                self.add(MemoNode::Done(result), parent);
                true
            }
        }
    }

    fn add(&mut self, node: MemoNode, parent: Option<(u32, api::Val)>) -> u32 {
        let i = self.nodes.len() as u32;
        self.nodes.push(node);
        match parent {
            None => self.root = Some(i),
            Some((p, v)) => {
                if let MemoNode::Ask { next, .. } = &mut self.nodes[p as usize] {
                    next.insert(v, i);
                }
            }
        }
        i
    }

    /// Number of tree nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// Counts of script failures per rule, for `check` and the log.
pub type ErrorCounts = BTreeMap<String, usize>;

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
const RULE = #{ id: "t", title: "测试", remind_before: [1] };
fn occasions(p, year) { [#{ date: date(year, 3, 1), title: "x" }] }
"#;

    #[test]
    fn a_broken_file_keeps_its_last_good_version() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.rhai");
        std::fs::write(&file, GOOD).unwrap();
        let first = RuleSet::load_dir(dir.path(), WorkCalendar::builtin(), None);
        assert!(first.errors.is_empty(), "{:?}", first.errors);
        assert_eq!(first.rules.len(), 1);

        std::fs::write(
            &file,
            "const RULE = #{ id: \"t\" };\nfn occasions(p, year) {\n  let x = ;\n}\n",
        )
        .unwrap();
        let second = RuleSet::load_dir(dir.path(), WorkCalendar::builtin(), Some(&first));
        assert_eq!(second.errors.len(), 1);
        let e = &second.errors[0];
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.to_string().contains("t.rhai"), "{e}");
        assert_eq!(second.rules.len(), 1, "the last good version is kept");
        assert_eq!(second.rules[0].hash, first.rules[0].hash);

        let fresh = RuleSet::load_dir(dir.path(), WorkCalendar::builtin(), None);
        assert!(
            fresh.rules.is_empty(),
            "without a previous set the broken rule is out"
        );
    }

    #[test]
    fn rule_map_is_validated() {
        let set = RuleSet::from_sources(
            vec![
                ("a.rhai".into(), "const RULE = #{ title: \"x\" };\nfn occasions(p, y) { [] }".into()),
                ("b.rhai".into(), "const RULE = #{ id: \"b\", remind_before: [\"7\"] };\nfn occasions(p, y) { [] }".into()),
                ("c.rhai".into(), "const RULE = #{ id: \"c\" };\nfn other(p, y) { [] }".into()),
                ("d.rhai".into(), GOOD.into()),
            ],
            vec![],
            WorkCalendar::builtin(),
            None,
        );
        let text: Vec<String> = set.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(set.rules.len(), 1, "{text:?}");
        assert!(
            text[0].contains("a.rhai") && text[0].contains("RULE.id"),
            "{text:?}"
        );
        assert!(
            text[1].contains("b.rhai") && text[1].contains("remind_before"),
            "{text:?}"
        );
        assert!(
            text[2].contains("c.rhai") && text[2].contains("occasions"),
            "{text:?}"
        );
    }

    #[test]
    fn a_runtime_error_names_rule_person_and_line() {
        let set = RuleSet::from_sources(
            vec![("d.rhai".into(), GOOD.into())],
            vec![],
            WorkCalendar::builtin(),
            None,
        );
        // A rule that fails only for some persons loads, and reports per person.
        let set2 = RuleSet::from_sources(
            vec![(
                "e.rhai".into(),
                "const RULE = #{ id: \"e\" };\nfn occasions(p, year) {\n  if p.name == \"坏\" { return [#{ date: 1 }]; }\n  []\n}\n".into(),
            )],
            vec![],
            WorkCalendar::builtin(),
            None,
        );
        assert!(set.errors.is_empty() && set2.errors.is_empty());
        let mut person = cases::probe_person();
        person.name = "坏".into();
        let data = Arc::new(PersonData::new(42, person, true, vec![], Arc::new(vec![])));
        let err = set2.eval(&set2.rules[0], &data, 2026).unwrap_err();
        assert_eq!(err.person_id, 42);
        assert_eq!(err.rule, "e");
        assert!(err.message.contains("date"), "{err}");
    }

    fn probe(id: i64, edit: impl FnOnce(&mut crate::roster::Person)) -> Arc<PersonData> {
        let mut person = cases::probe_person();
        person.name = format!("测试{id}");
        edit(&mut person);
        Arc::new(PersonData::new(id, person, true, vec![], Arc::new(vec![])))
    }

    /// Through the memo: a stored result, or a fresh evaluation that is then stored.
    fn via_memo(
        set: &RuleSet,
        memo: &mut Memo,
        rule: &Rule,
        p: &Arc<PersonData>,
    ) -> Arc<Vec<Occasion>> {
        if let Some(v) = memo.lookup(p) {
            return v;
        }
        let (r, trace) = set.eval_traced(rule, p, 2026);
        let v = Arc::new(r.unwrap());
        memo.insert(trace, v.clone());
        v
    }

    #[test]
    fn the_memo_gives_what_each_person_would_get_and_shares_it() {
        use crate::roster::{Category, Rank};
        let set = RuleSet::builtin(WorkCalendar::builtin());
        let persons: Vec<Arc<PersonData>> = (0..60)
            .map(|i| {
                probe(i, |p| {
                    p.category =
                        [Category::Lixiu, Category::Tuixiu, Category::Yishu][i as usize % 3];
                    p.rank = [Rank::Division, Rank::Other][i as usize % 2];
                    p.lives_alone = i % 5 == 0;
                    p.party_branch = (i % 4 != 0).then(|| "第一支部".to_string());
                    p.birth_date = chrono::NaiveDate::from_ymd_opt(
                        1930 + (i as i32 % 7) * 2,
                        1 + (i as u32 % 12),
                        1 + (i as u32 % 28),
                    )
                    .unwrap();
                    p.lunar_birthday = i % 3 == 0;
                    p.lunar_birth_date = None;
                })
            })
            .collect();
        for rule in &set.rules {
            let mut memo = Memo::default();
            for p in &persons {
                let got = via_memo(&set, &mut memo, rule, p);
                let want = set.eval(rule, p, 2026).unwrap();
                assert_eq!(*got, want, "rule {} person {}", rule.id, p.internal_id);
            }
        }
        // The monthly call reads nothing of the person: one result for everyone.
        let monthly = set.rules.iter().find(|r| r.id == "monthly-call").unwrap();
        let mut memo = Memo::default();
        let a = via_memo(&set, &mut memo, monthly, &persons[0]);
        let b = via_memo(&set, &mut memo, monthly, &persons[1]);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.len(), 12);
    }

    #[test]
    fn a_rule_that_reads_the_name_is_run_for_each_name() {
        let set = RuleSet::from_sources(
            vec![(
                "n.rhai".into(),
                "const RULE = #{ id: \"n\" };\nfn occasions(p, year) {\n  if p.name.len() > 3 { return []; }\n  [#{ date: date(year, 3, 1), title: `看望${p.name}` }]\n}\n".into(),
            )],
            vec![],
            WorkCalendar::builtin(),
            None,
        );
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        let rule = &set.rules[0];
        let mut memo = Memo::default();
        let a = via_memo(&set, &mut memo, rule, &probe(1, |p| p.name = "张三".into()));
        let b = via_memo(&set, &mut memo, rule, &probe(2, |p| p.name = "李四".into()));
        let c = via_memo(
            &set,
            &mut memo,
            rule,
            &probe(3, |p| p.name = "欧阳某某".into()),
        );
        let again = via_memo(&set, &mut memo, rule, &probe(4, |p| p.name = "张三".into()));
        assert_eq!(a[0].title, "看望张三");
        assert_eq!(b[0].title, "看望李四");
        assert!(c.is_empty());
        assert!(Arc::ptr_eq(&a, &again), "same name, same reads: shared");
    }

    #[test]
    fn a_full_memo_stops_growing_but_still_answers() {
        let mut memo = Memo::default();
        let v = Arc::new(vec![]);
        let trace = |i: i64| vec![(api::Read::AgeOn(chrono::NaiveDate::MIN), api::Val::Int(i))];
        assert!(memo.insert(trace(1), v.clone()));
        let big: Vec<(api::Read, api::Val)> = (0..MEMO_MAX_NODES as i64)
            .map(|i| (api::Read::BirthdaysIn(i), api::Val::Unit))
            .collect();
        assert!(!memo.insert(big, v.clone()), "over the limit: not stored");
        assert_eq!(memo.len(), 2);
    }

    #[test]
    fn a_date_as_title_reads_as_a_date() {
        let set = RuleSet::from_sources(
            vec![(
                "t.rhai".into(),
                "const RULE = #{ id: \"t\" };\nfn occasions(p, year) { [#{ date: date(year, 3, 1), title: date(year, 3, 1) }] }\n".into(),
            )],
            vec![],
            WorkCalendar::builtin(),
            None,
        );
        let got = set.eval(&set.rules[0], &probe(1, |_| {}), 2026).unwrap();
        assert_eq!(got[0].title, "2026-03-01");
    }
}
