//! Evaluating one rule for one person and year, and turning what the script
//! returned into [`Occasion`]s (or an error naming the rule and the field).

use std::sync::Arc;

use chrono::{Datelike as _, NaiveDate};
use rhai::{CallFnOptions, Dynamic, EvalAltResult, Map, Scope};

use super::engine::{explain, innermost_position, pos_of};
use super::{Occasion, PersonData, PersonView, Rule, RuleSet, RunError, api};

impl RuleSet {
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
}

/// The keys an occasion may have.
pub const OCCASION_KEYS: &[&str] = &[
    "date",
    "title",
    "kind",
    "key",
    "remind_on",
    "urgent",
    "satisfied_by",
    "window",
    "until",
    "to",
];

/// The contact kinds an occasion may ask for or be satisfied by.
pub const KINDS: &[&str] = &["visit", "call", "deliver"];

fn convert_occasions(rule: &Rule, value: Dynamic) -> Result<Vec<Occasion>, String> {
    if value.is_unit() {
        return Err(
            "occasions() 没有返回事项列表:函数的最后一行应当是 out(或 [] 表示没有事项),\
                    末尾不要加分号 (occasions() returned nothing: end it with `out`)"
                .into(),
        );
    }
    let list = value
        .into_array()
        .map_err(|t| format!("occasions() 要返回事项列表 [#{{ … }}, …],却返回了 {t} (occasions() must return a list of maps)"))?;
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        let m = item
            .try_cast::<Map>()
            .ok_or("每件事项要写成 #{ date: …, title: … } (each occasion must be a map)")?;
        out.push(convert_one(rule, &m)?);
    }
    Ok(out)
}

fn get_date(m: &Map, k: &str) -> Result<Option<NaiveDate>, String> {
    match m.get(k) {
        None => Ok(None),
        Some(v) if v.is_unit() => Ok(None),
        Some(v) => v.read_lock::<NaiveDate>().map(|d| Some(*d)).ok_or_else(|| {
            format!("事项的 {k} 要是日期,如 date(2026, 9, 18) 或 festival(…),不能是文字或数字 (occasion.{k} must be a Date)")
        }),
    }
}

fn convert_one(rule: &Rule, m: &Map) -> Result<Occasion, String> {
    for k in m.keys() {
        if !OCCASION_KEYS.contains(&k.as_str()) {
            return Err(format!(
                "事项里的「{k}」不是可用的项{};可用的有 {} (unknown occasion key {k:?})",
                super::suggest(k, OCCASION_KEYS),
                OCCASION_KEYS.join("、")
            ));
        }
    }
    let date = get_date(m, "date")?.ok_or(
        "事项缺少日期 date,或日期是 ()(例如这一周全部放假时 first_workday_of_week 的结果,\
         请用 if d == () { continue; } 跳过) (occasion.date is required)",
    )?;
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
                .ok_or("remind_on 要写成日期的列表,如 [d - 7, d - 1] (occasion.remind_on must be a list of Dates)")?;
            let mut ds = Vec::with_capacity(arr.len());
            for d in arr.iter() {
                ds.push(
                    *d.read_lock::<NaiveDate>()
                        .ok_or("remind_on 要写成日期的列表,如 [d - 7, d - 1] (occasion.remind_on must be a list of Dates)")?,
                );
            }
            Some(ds)
        }
    };
    let satisfied_by = match m.get("satisfied_by") {
        None => Vec::new(),
        Some(v) => {
            const BAD: &str = "satisfied_by 要写成列表,如 [\"call\", \"visit\"] (occasion.satisfied_by must be a list)";
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
                        "window 只能写 \"month\"(当月)或 #{{ from: 日期, to: 日期 }},不能写 {other:?} (occasion.window)"
                    ));
                }
            }
        }
        Some(v) => {
            let w = v.read_lock::<Map>().ok_or(
                "window 只能写 \"month\"(当月)或 #{ from: 日期, to: 日期 } (occasion.window)",
            )?;
            let from = get_date(&w, "from")?
                .ok_or("window 缺少 from(开始日期) (occasion.window.from is required)")?;
            let to = get_date(&w, "to")?
                .ok_or("window 缺少 to(结束日期) (occasion.window.to is required)")?;
            Some((from, to))
        }
    };
    let urgent = match m.get("urgent") {
        Some(v) if v.is_bool() => v.as_bool().unwrap_or(false),
        _ => rule.urgent,
    };
    let kind = text("kind").unwrap_or_else(|| "visit".into());
    for k in std::iter::once(&kind).chain(satisfied_by.iter()) {
        if !KINDS.contains(&k.as_str()) {
            return Err(format!(
                "kind: \"{k}\" 不是可用的方式,请写 \"visit\"(走访)、\"call\"(电话)或 \"deliver\"(送文) \
                 (kind must be visit, call or deliver)"
            ));
        }
    }
    let to = match m.get("to") {
        None => None,
        Some(v) if v.is_unit() => None,
        Some(v) => match v.read_lock::<rhai::ImmutableString>() {
            Some(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
            _ => {
                return Err(
                    "to 要写成文字:\"staff\"(联系人,默认)、\"supervisor\"(联系人的上级)、\
                     工作人员名单里的一个角色(如 \"局领导\")或一个工号 \
                     (occasion.to must be a text: staff, supervisor, a role or a 工号)"
                        .into(),
                );
            }
        },
    };
    Ok(Occasion {
        to,
        date,
        title: text("title").unwrap_or_else(|| rule.title.clone()),
        kind,
        key: text("key").unwrap_or_default(),
        remind_on,
        urgent,
        satisfied_by,
        window,
        until: get_date(m, "until")?,
    })
}
