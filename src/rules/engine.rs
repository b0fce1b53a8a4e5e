//! The sandboxed Rhai engine: limits, strict variables, no `eval`, print/debug to
//! the log (masked), and the wording of script failures for bureau staff.

use std::sync::Arc;

use rhai::{AST, CallFnOptions, Dynamic, Engine, EvalAltResult, Position, Scope};

use super::api::{self, PersonData, PersonView};
use crate::calendar::WorkCalendar;

/// Sandbox limits (per call of `occasions`).
pub const MAX_OPERATIONS: u64 = 200_000;
pub const MAX_CALL_LEVELS: usize = 32;
pub const MAX_STRING: usize = 4_096;
pub const MAX_ARRAY: usize = 4_096;
/// Rhai counts the properties of every map a call returns together, so this bounds
/// a person-year's occasions times their keys: a daily rule of 366 occasions with
/// up to 20 keys each fits.
pub const MAX_MAP: usize = 8_192;

/// Re-runs a failed call step by step to learn the line where it stopped.
pub(super) struct Diagnoser {
    engine: Engine,
    last: Arc<std::sync::Mutex<Position>>,
    running: std::sync::Mutex<()>,
}

impl Diagnoser {
    pub(super) fn new(cal: Arc<WorkCalendar>) -> Diagnoser {
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
    pub(super) fn locate(&self, ast: &AST, person: &Arc<PersonData>, year: i32) -> Position {
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

pub(super) fn pos_of(p: Position) -> (Option<usize>, Option<usize>) {
    (p.line(), p.position())
}

/// Words a bureau staff member can act on, for the errors they will meet most.
pub(super) fn explain(e: &EvalAltResult) -> String {
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
        EvalAltResult::ErrorFunctionNotFound(sig, _) => match property(sig) {
            // `p.nmae`: a property no getter has.
            Some(name) => format!(
                "老同志没有「{name}」这一项{} (no such property: {name})",
                super::suggest(name, PROPERTIES)
            ),
            None => format!("找不到函数 unknown function: {sig}"),
        },
        EvalAltResult::ErrorVariableNotFound(v, _) => format!("未定义的变量 unknown variable: {v}"),
        EvalAltResult::ErrorDotExpr(text, _) if text.starts_with("Unknown property '") => {
            let name = text["Unknown property '".len()..]
                .split('\'')
                .next()
                .unwrap_or_default();
            format!(
                "老同志没有「{name}」这一项{} (no such property: {name})",
                super::suggest(name, PROPERTIES)
            )
        }
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => explain(inner),
        other => other.to_string(),
    }
}

/// Everything a rule can read with a dot: the person's getters and a date's.
const PROPERTIES: &[&str] = &[
    "id",
    "name",
    "sex",
    "category",
    "rank",
    "birth_date",
    "lunar",
    "lives_alone",
    "empty_nest",
    "widowed",
    "hardship",
    "self_care",
    "hospitalised_since",
    "deceased_on",
    "community",
    "branch",
    "party_member",
    "active",
    "staff",
    "tags",
    "events",
    "documents",
    "year",
    "month",
    "day",
    "weekday",
];

/// The property name of a missing getter's signature (`get$nmae (Person)`).
fn property(sig: &str) -> Option<&str> {
    let rest = sig.strip_prefix("get$")?;
    Some(rest.split([' ', '(']).next().unwrap_or(rest))
}

pub(super) fn innermost_position(e: &EvalAltResult) -> Position {
    match e {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, pos) => {
            let p = innermost_position(inner);
            if p.is_none() { *pos } else { p }
        }
        other => other.position(),
    }
}
