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
        // Strict variables catch unknown names when compiling; what is left at run
        // time is a top-level constant written to inside a fn.
        EvalAltResult::ErrorVariableNotFound(v, _) => format!(
            "函数里找不到「{v}」:文件开头的 const 常量在函数里只能读,不能给它赋值或修改它(如 push);\
             请先 let 一个变量复制它,再改那个变量 (unknown variable: {v})"
        ),
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
        EvalAltResult::ErrorArithmetic(m, _) => {
            format!("算术错误(是否除以了0或数字太大?) arithmetic error: {m}")
        }
        EvalAltResult::ErrorArrayBounds(len, i, _) => {
            format!("列表只有 {len} 项,取不到第 {i} 项(从0数起) index {i} out of bounds")
        }
        EvalAltResult::ErrorStringBounds(len, i, _) => {
            format!("文字只有 {len} 个字,取不到第 {i} 个 index {i} out of bounds")
        }
        EvalAltResult::ErrorMismatchDataType(want, got, _) => {
            format!("类型不对:这里要 {want},却是 {got} (type mismatch)")
        }
        EvalAltResult::ErrorMismatchOutputType(want, got, _) => {
            format!("结果类型不对:要 {want},却是 {got} (wrong result type)")
        }
        EvalAltResult::ErrorIndexingType(what, _) => {
            format!("不能用 [ ] 取 {what} 的内容 (cannot index {what})")
        }
        EvalAltResult::ErrorFor(_) => {
            "for 循环只能遍历列表或范围(如 [1, 2] 或 1..10) for needs an array or a range".into()
        }
        EvalAltResult::ErrorAssignmentToConstant(v, _) => {
            format!("「{v}」是 const 常量,不能再赋值;要改的值请用 let 定义 (constant {v})")
        }
        // A helper's own message (date(), nth_workday()…) or a rule's `throw`.
        EvalAltResult::ErrorRuntime(v, _) => v.to_string(),
        other => other.to_string(),
    }
}

/// A compile error in words a bureau staff member can act on, Chinese first.
pub(super) fn explain_syntax(e: &rhai::ParseErrorType) -> String {
    use rhai::ParseErrorType as P;
    let english = e.to_string();
    let chinese = match e {
        P::UnexpectedEOF => "文件提前结束:是否少了右括号 ) 或 }?".to_string(),
        P::MissingToken(token, _) => format!("这里缺少「{token}」"),
        P::MissingSymbol(s) => format!("这里缺少「{s}」"),
        P::UnknownOperator(op) => format!("不认识的运算符「{op}」"),
        P::VariableUndefined(v) => format!(
            "没有定义「{v}」:是否拼错了?用 let {v} = …; 定义变量;文件开头的常量要用 const 定义才能在函数里用"
        ),
        P::VariableExists(v) | P::DuplicatedVariable(v) => format!("「{v}」重复定义了"),
        P::DuplicatedProperty(k) => format!("同一个 #{{ }} 里「{k}」写了两次"),
        P::FnDuplicatedDefinition(name, n) => format!("函数 {name}({n} 个参数)定义了两次"),
        P::FnMissingBody(name) => format!("函数 {name} 缺少用 {{ }} 括起来的函数体"),
        P::FnMissingParams(name) => format!("函数 {name} 缺少参数括号 ( )"),
        P::FnDuplicatedParam(f, p) => format!("函数 {f} 的参数「{p}」写了两次"),
        P::FnMissingName => "fn 后面缺少函数名".to_string(),
        P::AssignmentToConstant(v) => {
            format!("「{v}」是 const 常量,不能再赋值;要改的值请用 let 定义")
        }
        P::AssignmentToInvalidLHS(_) => {
            "等号 = 左边只能是变量或 变量.项;比较是否相等请用 ==".to_string()
        }
        P::ExprExpected(what) => format!("这里应该有{what}(是否多了逗号或少了值?)"),
        P::PropertyExpected => "点 . 后面应该是项的名字,如 p.name".to_string(),
        P::VariableExpected => "这里应该是变量名".to_string(),
        P::Reserved(word) => format!("「{word}」是保留字,不能用作名字,请换一个"),
        P::ForbiddenVariable(v) => format!("「{v}」不能用作变量名"),
        P::MismatchedType(want, got) => format!("类型不对:这里要 {want},却是 {got}"),
        P::LoopBreak => "break/continue 只能写在循环里".to_string(),
        P::ExprTooDeep => "表达式嵌套太深,请拆成几行".to_string(),
        P::BadInput(lex) => format!("无法识别的写法:{lex}(文字要用半角双引号 \"…\" 括起来)"),
        _ => "语法错误".to_string(),
    };
    format!("{chinese} (syntax error: {english})")
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
