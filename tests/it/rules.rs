//! The rule sandbox and rule checks through the binary: broken rule files are named
//! with a line and a plain reason while the good rules keep working; duplicate ids and
//! failing bureau test cases fail `check`. Also `calendar`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{Out, TestDb, backends, fixture, import, qinqing};

/// A rules folder holding a copy of the shipped rules and their test cases, and a
/// config file pointing at it.
struct RulesDir {
    dir: PathBuf,
    config: PathBuf,
}

impl RulesDir {
    fn new(db: &TestDb) -> RulesDir {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let dir = db.path("rules");
        std::fs::create_dir_all(dir.join("tests")).unwrap();
        let mut n = 0;
        for sub in ["", "tests"] {
            for e in std::fs::read_dir(shipped.join(sub)).unwrap() {
                let p = e.unwrap().path();
                if p.extension().is_some_and(|x| x == "rhai" || x == "toml") {
                    std::fs::copy(&p, dir.join(sub).join(p.file_name().unwrap())).unwrap();
                    n += 1;
                }
            }
        }
        assert_eq!(n, 22, "eleven shipped rules and eleven test files");
        let config = db.path("qinqing-rules.toml");
        std::fs::write(
            &config,
            format!("[rules]\npath = {:?}\n", dir.display().to_string()),
        )
        .unwrap();
        RulesDir { dir, config }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn check(&self, db: &TestDb, format: &str) -> Out {
        qinqing(db)
            .arg("--config")
            .arg(&self.config)
            .args(["check", "--format", format])
            .run()
    }
}

const SHIPPED: [&str; 11] = [
    "birthday-milestone",
    "complaint-visit",
    "condolence",
    "document-delivery",
    "festival-visit",
    "hardship-visit",
    "health-check",
    "hospital-visit",
    "leader-contact",
    "monthly-call",
    "study-at-home",
];

/// (file name, text, line of the fault, a word of the reason).
///
/// Syntax errors and unknown functions must name their line. Rhai resets the
/// position of its limit errors (operations, call depth, data size) to the call site,
/// which for a top-level `occasions` call is none, so for those the line is checked
/// only when one is given.
const BROKEN: &[(&str, &str, Line, &str)] = &[
    (
        "typo-key.rhai",
        "const RULE = #{\n\
         \x20   id: \"typo-key\",\n\
         \x20   remind_befor: [3],\n\
         };\n\
         fn occasions(p, year) { [] }\n",
        Line::Must(3),
        "您是不是要写 `remind_before`",
    ),
    (
        "chinese-kind.rhai",
        "const RULE = #{ id: \"chinese-kind\" };\n\
         fn occasions(p, year) {\n\
         \x20   [#{ date: date(year, 9, 1), title: \"走访\", kind: \"走访\" }]\n\
         }\n",
        Line::IfAny(3),
        "不是可用的方式",
    ),
    (
        "date-vs-text.rhai",
        "const RULE = #{ id: \"date-vs-text\" };\n\
         fn occasions(p, year) {\n\
         \x20   let d = date(year, 9, 1);\n\
         \x20   if d < \"2026-06-01\" { return []; }\n\
         \x20   [#{ date: d }]\n\
         }\n",
        Line::Must(4),
        "日期不能和文字比较",
    ),
    (
        "full-width.rhai",
        "const RULE = #{ id: \"full-width\", title: \"全角（括号）在字符串里没关系\" };\n\
         // 注释里的（全角）也没关系\n\
         fn occasions(p, year) {\n\
         \x20   [#{ date: date（year, 9, 18) }]\n\
         }\n",
        Line::Must(4),
        "这里用了全角符号\"（\",请改成半角\"(\"",
    ),
    (
        "typo-getter.rhai",
        "const RULE = #{ id: \"typo-getter\" };\n\
         fn occasions(p, year) {\n\
         \x20   if p.catgory == \"离休\" { return []; }\n\
         \x20   []\n\
         }\n",
        Line::IfAny(3),
        "您是不是要写 `category`",
    ),
    (
        "no-out.rhai",
        "const RULE = #{ id: \"no-out\" };\n\
         fn occasions(p, year) {\n\
         \x20   let out = [];\n\
         \x20   out.push(#{ date: date(year, 9, 1) });\n\
         }\n",
        Line::IfAny(2),
        "没有返回事项列表",
    ),
    (
        "loop.rhai",
        "const RULE = #{ id: \"loop-forever\", title: \"死循环\" };\n\
         \n\
         fn occasions(p, year) {\n\
         \x20   loop {}\n\
         }\n",
        Line::IfAny(4),
        "死循环",
    ),
    (
        "syntax.rhai",
        "const RULE = #{ id: \"syntax\", title: \"语法错误\" };\n\
         fn occasions(p, year) {\n\
         \x20   let x = ;\n\
         \x20   []\n\
         }\n",
        Line::Must(3),
        "syntax error",
    ),
    (
        "unknown-fn.rhai",
        "const RULE = #{ id: \"unknown-fn\", title: \"未知函数\" };\n\
         \n\
         \n\
         fn occasions(p, year) {\n\
         \x20   let d = no_such_function(year);\n\
         \x20   []\n\
         }\n",
        Line::Must(5),
        "no_such_function",
    ),
    (
        "huge-string.rhai",
        "const RULE = #{ id: \"huge-string\", title: \"大字符串\" };\n\
         fn occasions(p, year) {\n\
         \x20   let s = \"x\";\n\
         \x20   for i in 0..100 {\n\
         \x20       s += s;\n\
         \x20   }\n\
         \x20   []\n\
         }\n",
        Line::IfAny(5),
        "too large",
    ),
    (
        "recursion.rhai",
        "const RULE = #{ id: \"deep\", title: \"递归\" };\n\
         fn down(n) {\n\
         \x20   down(n + 1)\n\
         }\n\
         fn occasions(p, year) {\n\
         \x20   down(0)\n\
         }\n",
        Line::IfAny(3),
        "recursion",
    ),
];

#[derive(Clone, Copy)]
enum Line {
    Must(usize),
    IfAny(usize),
}

fn rule_ids(report: &Value) -> Vec<String> {
    let mut ids: Vec<String> = report["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// Endless loops, syntax errors, unknown functions, huge strings and deep recursion
/// are each reported by file (and line) with a plain reason; the shipped rules still
/// load, their cases pass, and preview still plans with them.
#[test]
fn broken_rules_are_named_and_the_rest_still_work() {
    for db in backends() {
        let rules = RulesDir::new(&db);
        for (name, text, _, _) in BROKEN {
            rules.write(name, text);
        }
        let out = rules.check(&db, "table").fails();
        for (name, _, line, reason) in BROKEN {
            let err = out
                .stdout
                .lines()
                .find(|l| l.starts_with("error:") && l.contains(name))
                .unwrap_or_else(|| panic!("[{}] {name} not named:\n{}", db.name(), out.all()));
            assert!(
                err.contains(&rules.dir.join(name).display().to_string()),
                "{err}"
            );
            let (want, must) = match line {
                Line::Must(l) => (*l, true),
                Line::IfAny(l) => (*l, false),
            };
            if must || err.contains(", line ") {
                assert!(
                    err.contains(&format!(", line {want}")) && err.contains(&format!("第{want}行")),
                    "[{}] {name}: expected line {want}: {err}",
                    db.name()
                );
            }
            assert!(
                err.contains(reason),
                "[{}] {name}: reason lacks {reason:?}: {err}",
                db.name()
            );
        }
        for id in SHIPPED {
            assert!(
                out.stdout.lines().any(|l| l.trim_start().starts_with(id)),
                "[{}] shipped rule {id} not listed:\n{}",
                db.name(),
                out.stdout
            );
        }
        assert!(out.stdout.contains("check FAILED"));

        let report = rules.check(&db, "json").fails().json();
        assert_eq!(rule_ids(&report), SHIPPED, "[{}]", db.name());
        let tests = report["rule_tests"].as_array().unwrap();
        assert!(tests.len() >= 6, "{tests:?}");
        assert!(
            tests.iter().all(|t| t["passed"] == true),
            "[{}] shipped cases fail: {tests:?}",
            db.name()
        );
        assert_eq!(report["ok"], false);
        assert_eq!(
            report["errors"].as_array().unwrap().len(),
            BROKEN.len(),
            "[{}] {}",
            db.name(),
            report["errors"]
        );

        // preview still plans with the good rules, says which were not loaded, and
        // exits non-zero: what it printed is incomplete.
        import(&db, &fixture("roster.xlsx"), &[]).ok();
        let out = qinqing(&db)
            .arg("--config")
            .arg(&rules.config)
            .args(["preview", "--from", "2026-03-01", "--to", "2026-03-31"])
            .args(["--format", "json"])
            .run()
            .fails();
        let stages = out.json_lines();
        assert!(
            stages.iter().any(|s| s["rule"] == "monthly-call"),
            "[{}] no monthly-call stage",
            db.name()
        );
        assert!(
            stages
                .iter()
                .all(|s| SHIPPED.contains(&s["rule"].as_str().unwrap())),
            "[{}] a broken rule planned something",
            db.name()
        );
        for (name, ..) in BROKEN {
            assert!(
                out.stderr.contains(name),
                "[{}] preview does not mention {name}:\n{}",
                db.name(),
                out.stderr
            );
        }
    }
}

/// The same folder without the broken files passes `check` (so the failure above is
/// theirs alone).
#[test]
fn shipped_rules_folder_passes_check() {
    let db = TestDb::sqlite();
    import(&db, &fixture("roster.xlsx"), &[]).ok();
    let rules = RulesDir::new(&db);
    let out = rules.check(&db, "table").ok();
    assert!(out.stdout.contains("check passed"), "{}", out.stdout);
    assert!(!out.stdout.contains("FAIL"), "{}", out.stdout);
    let report = rules.check(&db, "json").ok().json();
    assert_eq!(rule_ids(&report), SHIPPED);
    assert_eq!(report["ok"], true);
}

#[test]
fn duplicate_rule_ids_are_an_error() {
    let db = TestDb::sqlite();
    let rules = RulesDir::new(&db);
    let text = std::fs::read_to_string(rules.dir.join("monthly-call.rhai")).unwrap();
    rules.write("zz-monthly-call-copy.rhai", &text);
    let out = rules.check(&db, "table").fails();
    let err = out
        .stdout
        .lines()
        .find(|l| l.starts_with("error:") && l.contains("zz-monthly-call-copy.rhai"))
        .unwrap_or_else(|| panic!("duplicate not reported:\n{}", out.all()));
    assert!(err.contains("monthly-call"), "{err}");
    assert!(
        err.contains("/monthly-call.rhai") && err.contains("两个文件都没有加载"),
        "names both files: {err}"
    );
    // `check` is a first load: neither file is loaded, and check fails.
    let report = rules.check(&db, "json").fails().json();
    let without: Vec<&str> = SHIPPED
        .iter()
        .copied()
        .filter(|id| *id != "monthly-call")
        .collect();
    assert_eq!(rule_ids(&report), without);
    // The other order (a copy that sorts before the shipped file): the same.
    std::fs::remove_file(rules.dir.join("zz-monthly-call-copy.rhai")).unwrap();
    let text = std::fs::read_to_string(rules.dir.join("festival-visit.rhai")).unwrap();
    rules.write("aa-my-festival.rhai", &text);
    let out = rules.check(&db, "table").fails();
    let errs: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("error:") && l.contains("规则编号重复"))
        .collect();
    assert_eq!(errs.len(), 2, "{}", out.all());
    assert!(
        errs.iter()
            .all(|e| e.contains("aa-my-festival.rhai") && e.contains("/festival-visit.rhai")),
        "{errs:?}"
    );
    // (With a running set, the daemon keeps the running file and refuses the
    // newcomer: `rules::tests::duplicate_ids_refuse_the_newcomer_or_both`.)
}

/// A bureau's own test case that does not hold: check prints FAIL and exits non-zero.
#[test]
fn failing_bureau_case_fails_check() {
    let db = TestDb::sqlite();
    let rules = RulesDir::new(&db);
    rules.write(
        "tests/x.toml",
        "rule = \"birthday-milestone\"\n\
         [[case]]\n\
         name = \"写错的日期\"\n\
         year = 2026\n\
         person = { birth_date = \"1936-05-01\" }\n\
         expect = [\"2026-05-02\"]\n\
         [[case]]\n\
         name = \"对的日期\"\n\
         year = 2026\n\
         person = { birth_date = \"1936-05-01\" }\n\
         expect = [\"2026-05-01\"]\n",
    );
    let out = rules.check(&db, "table").fails();
    let fail = out
        .stdout
        .lines()
        .find(|l| l.contains("FAIL") && l.contains("写错的日期"))
        .unwrap_or_else(|| panic!("no FAIL line:\n{}", out.stdout));
    assert!(
        fail.contains("2026-05-02") && fail.contains("2026-05-01"),
        "{fail}"
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains("pass") && l.contains("对的日期")),
        "{}",
        out.stdout
    );
    let report = rules.check(&db, "json").fails().json();
    let failed: Vec<_> = report["rule_tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["passed"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
}

fn calendar(year: &str) -> Value {
    let db = TestDb::sqlite();
    qinqing(&db)
        .args(["calendar", "--year", year, "--format", "json"])
        .run()
        .ok()
        .json()
}

fn dates(v: &Value) -> Vec<&str> {
    v.as_array()
        .expect("a list of dates")
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect()
}

#[test]
fn calendar_2026() {
    let c = calendar("2026");
    assert_eq!(c["year"], 2026);
    assert_eq!(c["festivals"]["春节"], "2026-02-17");
    assert_eq!(c["festivals"]["中秋"], "2026-09-25");
    assert_eq!(c["festivals"]["除夕"], "2026-02-16");
    assert_eq!(c["festivals"]["国庆"], "2026-10-01");
    let holidays = dates(&c["holidays"]);
    let workdays = dates(&c["workdays"]);
    for d in ["2026-10-01", "2026-02-15", "2026-01-01", "2026-02-17"] {
        assert!(holidays.contains(&d), "{d} not a holiday: {holidays:?}");
    }
    for d in ["2026-01-04", "2026-02-14", "2026-02-28"] {
        assert!(
            workdays.contains(&d),
            "{d} not a make-up workday: {workdays:?}"
        );
        assert!(!holidays.contains(&d));
    }
    // An ordinary Saturday is neither.
    assert!(!holidays.contains(&"2026-03-07") && !workdays.contains(&"2026-03-07"));
    for v in c["festivals"].as_object().unwrap().values() {
        assert!(v.as_str().unwrap().starts_with("2026-"), "{v}");
    }
    for d in holidays.iter().chain(&workdays) {
        assert!(d.starts_with("2026-"), "{d} is not in 2026");
    }
}

#[test]
fn calendar_2023_new_years_eve() {
    let c = calendar("2023");
    assert_eq!(c["festivals"]["除夕"], "2023-01-21");
    assert_eq!(c["festivals"]["春节"], "2023-01-22");
    for d in dates(&c["holidays"]).iter().chain(&dates(&c["workdays"])) {
        assert!(d.starts_with("2023-"), "{d} is not in 2023");
    }
}

/// The table form runs and shows the festivals.
#[test]
fn calendar_table() {
    let db = TestDb::sqlite();
    let out = qinqing(&db).args(["calendar", "--year", "2026"]).run().ok();
    assert!(
        out.stdout.contains("春节") && out.stdout.contains("2026-02-17"),
        "{}",
        out.stdout
    );
    // A year without a notice warns.
    let out = qinqing(&db).args(["calendar", "--year", "2031"]).run().ok();
    assert!(out.stderr.contains("2031"), "{}", out.stderr);
}

/// Broken rules do not depend on the backend, but check reads the store: run the
/// short form on every backend.
#[test]
fn check_with_rules_folder_on_every_backend() {
    for db in backends() {
        let rules = RulesDir::new(&db);
        rules.write(BROKEN[1].0, BROKEN[1].1);
        import(&db, &fixture("roster.xlsx"), &[]).ok();
        let report = rules.check(&db, "json").fails().json();
        assert_eq!(report["persons"], 44, "[{}]", db.name());
        assert_eq!(rule_ids(&report), SHIPPED, "[{}]", db.name());
    }
}

/// Test cases may set every flag a rule reads: 空巢, 丧偶, 性别, 社区, 标签.
#[test]
fn test_cases_set_every_flag_a_rule_reads() {
    let db = TestDb::sqlite();
    let rules = RulesDir::new(&db);
    rules.write(
        "empty-nest-call.rhai",
        "const RULE = #{ id: \"empty-nest-call\", title: \"空巢电话\" };\n\
         fn occasions(p, year) {\n\
         \x20   if p.empty_nest && p.widowed && p.has_tag(\"百岁\") && p.community == \"文化东路社区\" && p.sex == \"女\" {\n\
         \x20       return [#{ date: date(year, 3, 8), kind: \"call\" }];\n\
         \x20   }\n\
         \x20   []\n\
         }\n",
    );
    rules.write(
        "tests/empty-nest-call.toml",
        "rule = \"empty-nest-call\"\n\n\
         [[case]]\nname = \"空巢丧偶的百岁老人\"\nyear = 2026\n\
         person = { birth_date = \"1926-01-01\", empty_nest = true, widowed = true, sex = \"女\", community = \"文化东路社区\", tags = [\"百岁\"] }\n\
         expect = [\"2026-03-08\"]\n\n\
         [[case]]\nname = \"不空巢:无\"\nyear = 2026\n\
         person = { birth_date = \"1926-01-01\", widowed = true, sex = \"女\", community = \"文化东路社区\", tags = [\"百岁\"] }\n\
         expect = []\n",
    );
    let out = rules.check(&db, "table").ok();
    assert!(out.stdout.contains("空巢丧偶的百岁老人"), "{}", out.stdout);
    assert!(!out.stdout.contains("FAIL"), "{}", out.stdout);
}

/// A rule that fails only for some persons (a branch the load-time trial does not
/// reach): preview prints what it could, names the failing persons by 编号,
/// grouped, and exits non-zero.
#[test]
fn preview_groups_rule_errors_by_number_and_fails() {
    let db = TestDb::sqlite();
    let rules = RulesDir::new(&db);
    rules.write(
        "retired-only-bug.rhai",
        "const RULE = #{ id: \"retired-only-bug\" };\n\
         fn occasions(p, year) {\n\
         \x20   if p.category == \"退休\" {\n\
         \x20       let x = [1, 2][5];\n\
         \x20   }\n\
         \x20   []\n\
         }\n",
    );
    import(
        &db,
        &crate::support::Roster::synthetic(9).save(&db, "roster.xlsx"),
        &[],
    )
    .ok();
    let out = qinqing(&db)
        .arg("--config")
        .arg(&rules.config)
        .args(["preview", "--from", "2026-03-01", "--to", "2026-03-31"])
        .run()
        .fails();
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("retired-only-bug"))
        .unwrap_or_else(|| panic!("{out:?}"));
    // Rows 2, 5, 8 are 退休 (T0002, T0005, T0008).
    assert!(line.contains("3 人出错,例如 T0002、T0005、T0008"), "{line}");
    assert!(line.contains("第4行"), "{line}");
    assert!(out.stdout.contains("monthly-call"), "the rest is printed");
}

/// `check` proves the rules on data: an error in a branch the one-person trial
/// does not reach is found on made-up persons of every kind (empty store) and on
/// the roster (naming 编号), and check fails.
#[test]
fn check_finds_errors_in_branches_the_trial_does_not_reach() {
    let db = TestDb::sqlite();
    let rules = RulesDir::new(&db);
    rules.write(
        "retired-only-bug.rhai",
        "const RULE = #{ id: \"retired-only-bug\" };\n\
         fn occasions(p, year) {\n\
         \x20   if p.category == \"退休\" && p.self_care == \"自理\" {\n\
         \x20       let x = [1, 2][5];\n\
         \x20   }\n\
         \x20   []\n\
         }\n",
    );
    let out = rules.check(&db, "table").fails();
    assert!(
        out.stdout.contains("retired-only-bug") && out.stdout.contains("made-up person"),
        "{}",
        out.stdout
    );
    import(
        &db,
        &crate::support::Roster::synthetic(9).save(&db, "roster.xlsx"),
        &[],
    )
    .ok();
    let out = rules.check(&db, "table").fails();
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("rule error on the roster"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(line.contains("T0002"), "{line}");
    assert!(!line.contains("370102"), "never an ID number: {line}");
}

/// `first_workday_of_week(d)`: the week's Monday, or the first working day after a
/// holiday (the week of 国庆 2026 starts working on Thursday 10-08).
#[test]
fn first_workday_of_week_skips_the_holiday() {
    let db = TestDb::sqlite();
    let rules = RulesDir::new(&db);
    rules.write(
        "weekly.rhai",
        "const RULE = #{ id: \"weekly\" };\n\
         fn occasions(p, year) {\n\
         \x20   [date(year, 9, 16), date(year, 10, 6)].map(|d| #{ date: first_workday_of_week(d), kind: \"call\" })\n\
         }\n",
    );
    rules.write(
        "tests/weekly.toml",
        "rule = \"weekly\"\n\n[[case]]\nname = \"周一,或节后第一个工作日\"\nyear = 2026\n\
         person = { birth_date = \"1940-01-01\" }\nexpect = [\"2026-09-14\", \"2026-10-08\"]\n",
    );
    let out = rules.check(&db, "table").ok();
    assert!(
        out.stdout.contains("周一,或节后第一个工作日"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("FAIL"), "{}", out.stdout);
}

/// A weekly rule (52 occasions a year, several keys each) fits the limits, which
/// count per occasion, not per person-year.
#[test]
fn a_weekly_rule_fits_the_limits() {
    let db = TestDb::sqlite();
    let rules = RulesDir::new(&db);
    rules.write(
        "weekly-call.rhai",
        "const RULE = #{ id: \"weekly-call\", title: \"每周电话\" };\n\
         fn occasions(p, year) {\n\
         \x20   let out = [];\n\
         \x20   for w in 0..52 {\n\
         \x20       out.push(#{ date: date(year, 1, 5) + 7 * w, title: `第${w + 1}周电话`, kind: \"call\", key: `${w}`, satisfied_by: [\"call\", \"visit\"] });\n\
         \x20   }\n\
         \x20   out\n\
         }\n",
    );
    rules.write(
        "tests/weekly-call.toml",
        "rule = \"weekly-call\"\n\n[[case]]\nname = \"52周\"\nyear = 2026\n\
         person = { birth_date = \"1940-01-01\" }\nexpect = [\"2026-01-05\", \"2026-01-12\", \"2026-01-19\", \"2026-01-26\", \"2026-02-02\", \"2026-02-09\", \"2026-02-16\", \"2026-02-23\", \"2026-03-02\", \"2026-03-09\", \"2026-03-16\", \"2026-03-23\", \"2026-03-30\", \"2026-04-06\", \"2026-04-13\", \"2026-04-20\", \"2026-04-27\", \"2026-05-04\", \"2026-05-11\", \"2026-05-18\", \"2026-05-25\", \"2026-06-01\", \"2026-06-08\", \"2026-06-15\", \"2026-06-22\", \"2026-06-29\", \"2026-07-06\", \"2026-07-13\", \"2026-07-20\", \"2026-07-27\", \"2026-08-03\", \"2026-08-10\", \"2026-08-17\", \"2026-08-24\", \"2026-08-31\", \"2026-09-07\", \"2026-09-14\", \"2026-09-21\", \"2026-09-28\", \"2026-10-05\", \"2026-10-12\", \"2026-10-19\", \"2026-10-26\", \"2026-11-02\", \"2026-11-09\", \"2026-11-16\", \"2026-11-23\", \"2026-11-30\", \"2026-12-07\", \"2026-12-14\", \"2026-12-21\", \"2026-12-28\"]\n",
    );
    let out = rules.check(&db, "table").ok();
    assert!(!out.stdout.contains("FAIL"), "{}", out.stdout);
    assert!(!out.all().contains("data too large"), "{}", out.all());
}

/// The calendar helpers on the 2026 calendar: the week of 2026-02-16 is all 春节
/// holidays (no first working day: `()`), 2026-09-20 and 2026-10-10 are make-up
/// working days (调休上班), 国庆 runs 10-01 to 10-07. A `const` at the top of the
/// file is usable inside `fn`.
#[test]
fn calendar_helpers_and_constants_in_functions() {
    let db = TestDb::sqlite();
    let rules = RulesDir::new(&db);
    rules.write(
        "helpers.rhai",
        "const RULE = #{ id: \"helpers\", title: \"日历\" };\n\
         const MONTHS = [9, 10];\n\
         const LATE = #{ nth: 3 };\n\
         fn check(what, got, want) {\n\
         \x20   if got != want { throw `${what}: ${got}`; }\n\
         }\n\
         fn occasions(p, year) {\n\
         \x20   if year != 2026 { return []; }\n\
         \x20   let out = [];\n\
         \x20   if first_workday_of_week(date(year, 2, 18)) == () { out.push(#{ date: date(year, 1, 1), key: \"spring\" }); }\n\
         \x20   check(\"before\", workday_on_or_before(date(year, 10, 4)), date(year, 9, 30));\n\
         \x20   check(\"after\", workday_on_or_after(date(year, 10, 4)), date(year, 10, 8));\n\
         \x20   check(\"week\", first_workday_of_week(date(year, 10, 11)), date(year, 10, 8));\n\
         \x20   check(\"first\", nth_workday(year, 10, 1), date(year, 10, 8));\n\
         \x20   check(\"old names\", prev_workday(date(year, 9, 21)), date(year, 9, 20));\n\
         \x20   out.push(#{ date: workday_on_or_before(date(year, 9, 20)), key: \"makeup\" });\n\
         \x20   for m in MONTHS { out.push(#{ date: nth_workday(year, m, LATE.nth), key: `m${m}` }); }\n\
         \x20   let weeks = weeks_in(year);\n\
         \x20   check(\"weeks\", weeks.len(), 53);\n\
         \x20   check(\"week 1\", weeks[0], date(year - 1, 12, 29));\n\
         \x20   out.push(#{ date: weeks[52], key: \"w53\" });\n\
         \x20   out\n\
         }\n",
    );
    rules.write(
        "tests/helpers.toml",
        "rule = \"helpers\"\n\n[[case]]\nname = \"2026年的日历\"\nyear = 2026\n\
         person = { birth_date = \"1940-01-01\" }\n\
         expect = [\"2026-01-01\", \"2026-09-03\", \"2026-09-20\", \"2026-10-10\", \"2026-12-28\"]\n",
    );
    let out = rules.check(&db, "table").ok();
    assert!(out.stdout.contains("2026年的日历"), "{}", out.all());
    assert!(!out.stdout.contains("FAIL"), "{}", out.all());

    // nth_workday past the month's end names the count.
    rules.write(
        "helpers.rhai",
        "const RULE = #{ id: \"helpers\", title: \"日历\" };\n\
         fn occasions(p, year) {\n\
         \x20   [#{ date: nth_workday(year, 10, 30) }]\n\
         }\n",
    );
    let out = rules.check(&db, "table").fails();
    assert!(
        out.all()
            .contains("2026年10月只有 18 个工作日,没有第 30 个"),
        "{}",
        out.all()
    );
}

/// A `let` at the top of the file is not visible in `fn`: the message says to use
/// `const`, in Chinese, with the line and column; other syntax errors are in Chinese too.
#[test]
fn syntax_errors_are_explained_in_chinese() {
    let db = TestDb::sqlite();
    let rules = RulesDir::new(&db);
    let cases = [
        (
            "let AGES = [80, 90];\nconst RULE = #{ id: \"x1\" };\nfn occasions(p, year) {\n    AGES.map(|a| #{ date: date(year, 1, 1) })\n}\n",
            "第4行",
            "没有定义「AGES」",
        ),
        (
            "const RULE = #{ id: \"x2\" };\nfn occasions(p, year) {\n    let out = [];\n    out\n",
            "",
            "文件提前结束",
        ),
        (
            "const RULE = #{ id: \"x3\", id: \"y\" };\nfn occasions(p, year) { [] }\n",
            "第1行",
            "「id」写了两次",
        ),
        (
            "const RULE = #{ id: \"x4\" };\nfn occasions(p, year) {\n    RULE = 1;\n    []\n}\n",
            "第3行",
            "不能给它赋值",
        ),
    ];
    for (i, (text, line, want)) in cases.iter().enumerate() {
        let name = format!("mistake{i}.rhai");
        rules.write(&name, text);
        let out = rules.check(&db, "table").fails();
        let err = out
            .stdout
            .lines()
            .find(|l| l.contains(&name))
            .unwrap_or_else(|| panic!("{name} not named:\n{}", out.all()));
        assert!(err.contains(want), "{name}: {err}");
        assert!(err.contains(line), "{name}: {err}");
        std::fs::remove_file(rules.dir.join(&name)).unwrap();
    }
}

/// `preview --compare DIR`: a clerk adds 85岁 to 满旬 in a copy of the rules and sees
/// exactly the new stages (two reminders and one escalation for each person turning
/// 85) and nothing removed; `check --rules DIR` checks that copy.
#[test]
fn compare_lists_exactly_what_an_edit_adds() {
    for db in backends() {
        let live = RulesDir::new(&db);
        let mut roster = crate::support::Roster::synthetic(6);
        // T0002 and T0005 turn 85 in 2026 (on 03-02 and 06-05).
        roster
            .persons
            .set(1, "出生日期", crate::support::X::Text("1941-03-02".into()));
        roster
            .persons
            .set(4, "出生日期", crate::support::X::Text("1941-06-05".into()));
        roster.persons.set(1, "身份证号", crate::support::X::Empty);
        roster.persons.set(4, "身份证号", crate::support::X::Empty);
        import(&db, &roster.save(&db, "roster.xlsx"), &[]).ok();

        let edited = db.path("rules-edited");
        std::fs::create_dir_all(edited.join("tests")).unwrap();
        for sub in ["", "tests"] {
            for e in std::fs::read_dir(live.dir.join(sub)).unwrap() {
                let p = e.unwrap().path();
                if p.is_file() {
                    std::fs::copy(&p, edited.join(sub).join(p.file_name().unwrap())).unwrap();
                }
            }
        }
        let file = edited.join("birthday-milestone.rhai");
        let text = std::fs::read_to_string(&file).unwrap().replace(
            "if b.age == 70 || b.age == 80 || b.age >= 90 {",
            "if b.age == 70 || b.age == 80 || b.age == 85 || b.age >= 90 {",
        );
        std::fs::write(&file, text).unwrap();

        let out = qinqing(&db)
            .arg("--config")
            .arg(&live.config)
            .args([
                "preview",
                "--from",
                "2026-01-01",
                "--to",
                "2026-12-31",
                "--format",
                "json",
                "--compare",
            ])
            .arg(&edited)
            .run()
            .ok();
        let v: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(
            v["removed"].as_array().unwrap().len(),
            0,
            "[{}] {v:#}",
            db.name()
        );
        let added: std::collections::BTreeSet<String> = v["added"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{} {} {} {} {}",
                    s["rule"].as_str().unwrap(),
                    s["person_number"].as_str().unwrap(),
                    s["occasion_on"].as_str().unwrap(),
                    s["remind_on"].as_str().unwrap(),
                    s["recipient"].as_str().unwrap()
                )
            })
            .collect();
        let want: std::collections::BTreeSet<String> = [
            // 03-02 is a Monday: 7 days before is 02-23 (春节, so the make-up working
            // Saturday 02-14), 1 day before the make-up Saturday 02-28; escalation 3
            // days after, on 03-05.
            "birthday-milestone T0002 2026-03-02 2026-02-14 S003",
            "birthday-milestone T0002 2026-03-02 2026-02-28 S003",
            "birthday-milestone T0002 2026-03-02 2026-03-05 S001",
            // 06-05 is a Friday: 05-29, 06-04; escalation on Monday 06-08.
            "birthday-milestone T0005 2026-06-05 2026-05-29 S002",
            "birthday-milestone T0005 2026-06-05 2026-06-04 S002",
            "birthday-milestone T0005 2026-06-05 2026-06-08 S001",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(added, want, "[{}] {v:#}", db.name());
        assert_eq!(
            v["by_rule_month"],
            serde_json::json!([
                {"rule": "birthday-milestone", "month": "2026-02", "added": 2, "removed": 0},
                {"rule": "birthday-milestone", "month": "2026-03", "added": 1, "removed": 0},
                {"rule": "birthday-milestone", "month": "2026-05", "added": 1, "removed": 0},
                {"rule": "birthday-milestone", "month": "2026-06", "added": 2, "removed": 0},
            ]),
            "[{}]",
            db.name()
        );
        // The table names the rule and month, and the stages.
        let out = qinqing(&db)
            .arg("--config")
            .arg(&live.config)
            .args([
                "preview",
                "--from",
                "2026-01-01",
                "--to",
                "2026-12-31",
                "--compare",
            ])
            .arg(&edited)
            .run()
            .ok();
        assert!(out.stdout.contains("增加 added: 6 条"), "{}", out.stdout);
        assert!(out.stdout.contains("T0005"), "{}", out.stdout);

        // check --rules checks the edited folder (a broken copy fails, the live passes).
        std::fs::write(
            edited.join("broken.rhai"),
            "const RULE = #{ id: \"b\" };\nfn occasions(p, year) {\n",
        )
        .unwrap();
        let out = qinqing(&db)
            .arg("--config")
            .arg(&live.config)
            .args(["check", "--rules"])
            .arg(&edited)
            .run()
            .fails();
        assert!(out.all().contains("broken.rhai"), "{}", out.all());
        qinqing(&db)
            .arg("--config")
            .arg(&live.config)
            .arg("check")
            .run()
            .ok();
    }
}

/// Test cases can expect remind days, titles, urgency and recipients and set every
/// roster field; a failing expectation names what differs, and a broken case file
/// is reported once with its line and column.
#[test]
fn cases_expect_reminders_titles_urgency_and_recipients() {
    let db = TestDb::sqlite();
    let rules = RulesDir::new(&db);
    rules.write(
        "tests/birthday-milestone-more.toml",
        "rule = \"birthday-milestone\"\n\n[[case]]\nname = \"90岁,提醒日\"\nyear = 2026\n\
         person = { birth_date = \"1936-10-03\", number = \"LX0001\", phone = \"13800000000\", address = \"某路1号\", health = \"良好\", former_unit = \"某局\", family_phone = \"13900000000\", staff = [\"S009\"] }\n\
         expect = [\"2026-10-03\"]\n\
         expect_reminders = [\"2026-09-24\", \"2026-09-30\"]\n\
         expect_titles = [\"90岁寿辰\"]\n\
         expect_urgent = false\n\
         expect_to = [\"staff\"]\n",
    );
    let out = rules.check(&db, "table").ok();
    assert!(out.stdout.contains("90岁,提醒日"), "{}", out.all());
    assert!(!out.stdout.contains("FAIL"), "{}", out.all());

    // A wrong expectation names what differs.
    rules.write(
        "tests/birthday-milestone-more.toml",
        "rule = \"birthday-milestone\"\n\n[[case]]\nname = \"标题写错\"\nyear = 2026\n\
         person = { birth_date = \"1936-10-03\" }\nexpect_titles = [\"九十大寿\"]\nexpect_to = [\"supervisor\"]\n",
    );
    let out = rules.check(&db, "table").fails();
    assert!(
        out.all()
            .contains("expect_titles: expected [九十大寿], got [90岁寿辰]"),
        "{}",
        out.all()
    );
    assert!(
        out.all()
            .contains("expect_to: expected [supervisor], got [staff]"),
        "{}",
        out.all()
    );

    // A broken case file: once, with its line and column.
    rules.write(
        "tests/birthday-milestone-more.toml",
        "rule = \"birthday-milestone\"\n\n[[case]]\nname = \"少了引号\nyear = 2026\n",
    );
    let out = rules.check(&db, "table").fails();
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("error:") && l.contains("birthday-milestone-more.toml"))
        .collect();
    assert_eq!(lines.len(), 1, "{}", out.all());
    // The string that is not closed starts on line 4, column 13.
    assert!(lines[0].contains("第4行第13列"), "{}", lines[0]);
    assert!(!out.all().contains("没有加载"), "{}", out.all());
}

/// Every worked example in rules/README.md (its 示例 section: a ```rhai block, then
/// the ```toml block of its cases) passes `check` with its own test cases.
#[test]
fn the_readme_examples_pass_check_with_their_cases() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/README.md"))
            .unwrap();
    let start = readme.find("\n## 示例").expect("a 示例 section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let mut blocks = Vec::new();
    let mut rest = section;
    while let Some(i) = rest.find("```") {
        let after = &rest[i + 3..];
        let lang_end = after.find('\n').unwrap();
        let lang = after[..lang_end].trim().to_string();
        let body_end = after.find("\n```").unwrap();
        blocks.push((lang, after[lang_end + 1..body_end + 1].to_string()));
        rest = &after[body_end + 4..];
    }
    assert_eq!(
        blocks.len(),
        14,
        "seven examples, each a rule and its cases"
    );
    let db = TestDb::sqlite();
    let dir = db.path("examples");
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    let mut names = Vec::new();
    let mut shipped_examples = 0;
    for pair in blocks.chunks(2) {
        let [(l1, rule), (l2, cases)] = pair else {
            panic!("each example is a rhai block then a toml block: {pair:?}")
        };
        assert_eq!((l1.as_str(), l2.as_str()), ("rhai", "toml"));
        let id = cases
            .lines()
            .find_map(|l| l.strip_prefix("rule = "))
            .unwrap()
            .trim_matches('"')
            .to_string();
        assert!(rule.contains(&format!("id: \"{id}\"")), "{id}");
        // An example that is a shipped rule is its shipped text, word for word.
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        if let Ok(text) = std::fs::read_to_string(shipped.join(format!("{id}.rhai"))) {
            assert_eq!(
                rule, &text,
                "README example {id} differs from rules/{id}.rhai"
            );
            let shipped_cases =
                std::fs::read_to_string(shipped.join("tests").join(format!("{id}.toml"))).unwrap();
            assert_eq!(cases, &shipped_cases, "README cases for {id} differ");
            shipped_examples += 1;
        }
        std::fs::write(dir.join(format!("{id}.rhai")), rule).unwrap();
        std::fs::write(dir.join("tests").join(format!("{id}.toml")), cases).unwrap();
        names.extend(
            cases
                .lines()
                .filter_map(|l| l.strip_prefix("name = "))
                .map(|n| format!("pass {id} / {}", n.trim_matches('"'))),
        );
    }
    assert_eq!(shipped_examples, 4, "four examples are shipped rules");
    let config = db.path("examples.toml");
    std::fs::write(
        &config,
        format!("[rules]\npath = {:?}\n", dir.display().to_string()),
    )
    .unwrap();
    let out = qinqing(&db)
        .arg("--config")
        .arg(&config)
        .arg("check")
        .run()
        .ok();
    for n in &names {
        assert!(
            out.stdout.contains(n.as_str()),
            "{n} missing:\n{}",
            out.all()
        );
    }
    assert!(!out.stdout.contains("FAIL"), "{}", out.all());
}
