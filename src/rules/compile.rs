//! Loading rules: the shipped ones or a folder's `*.rhai` (and `tests/*.toml`),
//! compiling each file once, checking its `RULE` map, keeping the last good version
//! of a file that broke, and the load-time trial run on a made-up person.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use rhai::{Engine, Map, Scope};

use super::engine::{Diagnoser, build_engine, explain, explain_syntax, innermost_position, pos_of};
use super::{BUILTIN_CASES, BUILTIN_RULES, CatchUp, LoadError, PersonData, Rule, RuleSet, cases};
use crate::calendar::WorkCalendar;

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
        let loose = loose_engine(calendar.clone());
        let diagnose = Arc::new(Diagnoser::new(calendar.clone()));
        let mut rules: Vec<Rule> = Vec::new();
        let mut errors = Vec::new();
        // Ids refused because two new files share them: id → the files.
        let mut refused: std::collections::HashMap<String, String> = Default::default();
        for (file, text) in files {
            match compile_rule(&engine, &loose, &file, &text) {
                Ok(rule) => {
                    if let Some(other) = refused.get(&rule.id) {
                        errors.push(LoadError {
                            file: rule.file.clone(),
                            line: None,
                            column: None,
                            message: format!(
                                "规则编号重复:{:?} 也用在 {other},都没有加载;请给每个文件一个不同的编号 \
                                 (duplicate rule id {:?})",
                                rule.id, rule.id
                            ),
                        });
                        continue;
                    }
                    if let Some(i) = rules.iter().position(|r| r.id == rule.id) {
                        // Two files, one id: the one in the last good set keeps it and
                        // the newcomer is refused; when neither was running (a first
                        // load, or two new files) neither is loaded.
                        let was_running = |r: &Rule| {
                            previous.is_some_and(|p| {
                                p.rules.iter().any(|x| x.file == r.file && x.id == r.id)
                            })
                        };
                        let (old_runs, new_runs) = (was_running(&rules[i]), was_running(&rule));
                        if old_runs != new_runs {
                            let (kept, dropped) = if new_runs {
                                let old = std::mem::replace(&mut rules[i], rule);
                                (rules[i].file.clone(), old)
                            } else {
                                (rules[i].file.clone(), rule)
                            };
                            errors.push(LoadError {
                                file: dropped.file.clone(),
                                line: None,
                                column: None,
                                message: format!(
                                    "规则编号重复:{:?} 已由正在运行的 {kept} 使用,本文件未加载;\
                                     请给本规则换一个编号 (rule id {:?} is already used by {kept})",
                                    dropped.id, dropped.id
                                ),
                            });
                        } else {
                            let first = rules.remove(i);
                            for (file, other) in
                                [(&first.file, &rule.file), (&rule.file, &first.file)]
                            {
                                errors.push(LoadError {
                                    file: file.clone(),
                                    line: None,
                                    column: None,
                                    message: format!(
                                        "规则编号重复:{:?} 同时用在 {file} 和 {other},两个文件都没有加载;\
                                         请给其中一个换一个编号 (duplicate rule id {:?}: neither file is loaded)",
                                        rule.id, rule.id
                                    ),
                                });
                            }
                            refused.insert(
                                rule.id.clone(),
                                format!("{} 和 {}", first.file, rule.file),
                            );
                        }
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
            escalation_fallback: None,
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
}

fn hash_text(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// The first full-width punctuation mark in code (outside strings and comments),
/// as a Chinese input method types it: (line, column, the mark, its ASCII twin).
fn full_width(text: &str) -> Option<(usize, usize, char, char)> {
    const MARKS: &[(char, char)] = &[
        ('（', '('),
        ('）', ')'),
        ('，', ','),
        ('；', ';'),
        ('：', ':'),
        ('“', '"'),
        ('”', '"'),
        ('【', '['),
        ('】', ']'),
        ('｛', '{'),
        ('｝', '}'),
        ('＝', '='),
        ('＋', '+'),
        ('－', '-'),
        ('．', '.'),
        ('！', '!'),
        ('＜', '<'),
        ('＞', '>'),
    ];
    let mut in_str: Option<char> = None;
    let mut block_comment = false;
    for (i, line) in text.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            let next = chars.get(j + 1).copied();
            if block_comment {
                if c == '*' && next == Some('/') {
                    block_comment = false;
                    j += 1;
                }
            } else if let Some(q) = in_str {
                if c == '\\' {
                    j += 1;
                } else if c == q {
                    in_str = None;
                }
            } else if c == '/' && next == Some('/') {
                break;
            } else if c == '/' && next == Some('*') {
                block_comment = true;
                j += 1;
            } else if c == '"' || c == '`' || c == '\'' {
                in_str = Some(c);
            } else if let Some((_, ascii)) = MARKS.iter().find(|(w, _)| *w == c) {
                return Some((i + 1, j + 1, c, *ascii));
            }
            j += 1;
        }
        // Plain strings end at the line's end; template strings may go on.
        if in_str.is_some_and(|q| q != '`') {
            in_str = None;
        }
    }
    None
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

/// The sandboxed engine without strict variables and without optimization, used only
/// to run a file's top level and read its constants.
fn loose_engine(cal: Arc<WorkCalendar>) -> Engine {
    let mut engine = build_engine(cal);
    engine.set_strict_variables(false);
    engine.set_optimization_level(rhai::OptimizationLevel::None);
    engine
}

fn compile_rule(
    engine: &Engine,
    loose: &Engine,
    file: &str,
    text: &str,
) -> Result<Rule, LoadError> {
    let fail = |line: Option<usize>, column: Option<usize>, message: String| LoadError {
        file: file.to_string(),
        line,
        column,
        message,
    };
    if let Some((line, column, found, want)) = full_width(text) {
        return Err(fail(
            Some(line),
            Some(column),
            format!(
                "这里用了全角符号\"{found}\",请改成半角\"{want}\" (full-width punctuation in code)"
            ),
        ));
    }
    let lines = text.lines().count();
    let syntax = |e: rhai::ParseError| {
        let (l, c) = pos_of(e.position());
        let mut message = explain_syntax(e.err_type());
        // Rhai reports a missing `}` at the end as a missing `;` after the last line.
        if l.is_none_or(|l| l > lines)
            && !matches!(e.err_type(), rhai::ParseErrorType::UnexpectedEOF)
        {
            message = format!("文件提前结束:是否少了右括号 }} 或 )?{message}");
        }
        fail(l, c, message)
    };
    // The top level runs once in the non-strict twin to read its constants (RULE, and
    // any `const AGES = [80, 90];`). The file is then compiled strictly with them in
    // scope, so the optimizer writes their values into every fn (Rhai functions
    // cannot see the top level, and `no_module` takes `global::` away) while a
    // misspelt name is still a compile error.
    let loose_ast = loose.compile(text).map_err(syntax)?;
    let mut scope = Scope::new();
    loose
        .run_ast_with_scope(&mut scope, &loose_ast)
        .map_err(|e| {
            let (l, c) = pos_of(innermost_position(&e));
            fail(l, c, explain(&e))
        })?;
    let mut constants = Scope::new();
    for (name, is_constant, value) in scope.iter() {
        if is_constant {
            constants.push_constant(name.to_string(), value);
        }
    }
    let ast = engine
        .compile_with_scope(&constants, text)
        .map_err(syntax)?;
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
    let map: Map = scope.get_value::<Map>("RULE").ok_or_else(|| {
        fail(
            None,
            None,
            "缺少 const RULE = #{ id: …, title: … } at the top of the file".into(),
        )
    })?;
    const RULE_KEYS: &[&str] = &[
        "id",
        "title",
        "remind_before",
        "escalate_after",
        "escalate_again_after",
        "urgent",
        "channels",
        "after_death",
        "catch_up",
        "catch_up_days",
        "after_death_days",
        "enabled",
    ];
    for k in map.keys() {
        if !RULE_KEYS.contains(&k.as_str()) {
            // Where the key is written, for the line and column.
            let (line, column) = text
                .lines()
                .enumerate()
                .find_map(|(i, l)| {
                    l.find(&format!("{k}:"))
                        .or_else(|| l.find(&format!("{k} :")))
                        .map(|c| (Some(i + 1), Some(l[..c].chars().count() + 1)))
                })
                .unwrap_or((None, None));
            return Err(fail(
                line,
                column,
                format!(
                    "RULE 里的「{k}」不是可用的项{};可用的有 {} (unknown RULE key {k:?})",
                    super::suggest(k, RULE_KEYS),
                    RULE_KEYS.join("、")
                ),
            ));
        }
    }
    let get_str =
        |k: &str| -> Option<String> { map.get(k).and_then(|v| v.clone().into_string().ok()) };
    let id = get_str("id")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| fail(None, None, "RULE 里缺少 id,或 id 不是文字:请写 id: \"my-rule\" (RULE.id is missing or not a string)".into()))?;
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
                        format!("RULE.{k} 要写成天数的列表,如 [7, 1] (RULE.{k} must be a list of whole numbers of days)"),
                    )
                })
                .and_then(|xs| {
                    if xs.iter().any(|x| *x < 0) {
                        Err(fail(None, None, format!("RULE.{k} 的天数不能是负数 (RULE.{k} must not be negative)")))
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
                "RULE.escalate_after 要写天数(如 3),不报告上级写 false (RULE.escalate_after must be a number of days, or false)".into(),
            )
        })?),
    };
    let urgent = match map.get("urgent") {
        None => false,
        Some(v) => v.as_bool().map_err(|_| {
            fail(
                None,
                None,
                "RULE.urgent 只能是 true 或 false (RULE.urgent must be true or false)".into(),
            )
        })?,
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
                    "RULE.channels 要写成渠道名的列表,如 [\"sms\", \"wecom\"] (RULE.channels must be a list of channel names)".into(),
                )
            })?
            .into_iter()
            .map(|s| s.to_string())
            .collect(),
    };
    let after_death = match map.get("after_death") {
        None => false,
        Some(v) => v.as_bool().map_err(|_| {
            fail(
                None,
                None,
                "RULE.after_death 只能是 true 或 false (RULE.after_death must be true or false)"
                    .into(),
            )
        })?,
    };
    let days = |k: &str| -> Result<Option<i64>, LoadError> {
        match map.get(k) {
            None => Ok(None),
            Some(v) => match v.as_int() {
                Ok(n) if n >= 0 => Ok(Some(n)),
                _ => Err(fail(
                    None,
                    None,
                    format!(
                        "RULE.{k} 必须是不小于0的天数, 例如 {k}: 7 (must be a whole number of days ≥ 0)"
                    ),
                )),
            },
        }
    };
    let catch_up = match map.get("catch_up") {
        None => None,
        Some(v) => match v.clone().into_string().ok().as_deref() {
            Some("send") => Some(CatchUp::Send),
            Some("skip") => Some(CatchUp::Skip),
            _ => {
                return Err(fail(
                    None,
                    None,
                    "RULE.catch_up 只能是 \"send\"(过期仍补发)或 \"skip\"(事项已过则不补发) \
                     (must be \"send\" or \"skip\")"
                        .into(),
                ));
            }
        },
    };
    let catch_up_days = days("catch_up_days")?;
    let escalate_again_after = days("escalate_again_after")?.filter(|n| *n > 0);
    let after_death_days = days("after_death_days")?.unwrap_or(30);
    let enabled = match map.get("enabled") {
        None => true,
        Some(v) => v.as_bool().map_err(|_| {
            fail(
                None,
                None,
                "RULE.enabled 只能是 true(启用)或 false(不启用) (must be true or false)".into(),
            )
        })?,
    };
    Ok(Rule {
        enabled,
        after_death,
        catch_up,
        catch_up_days,
        after_death_days,
        shared_id: id.as_str().into(),
        shared_channels: channels.as_slice().into(),
        id,
        title,
        file: file.to_string(),
        remind_before,
        escalate_after,
        escalate_again_after,
        urgent,
        channels,
        hash: hash_text(text),
        ast: Arc::new(ast),
    })
}
