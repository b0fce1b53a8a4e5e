//! Rule test cases a bureau writes next to its rules (`rules/tests/*.toml`): a person,
//! a year, and the occasions expected. `qinqing check` runs them.
//!
//! ```toml
//! rule = "birthday-milestone"
//! [[case]]
//! name = "90岁生日"
//! year = 2026
//! person = { birth_date = "1936-05-01", category = "退休" }
//! expect = ["2026-05-01"]            # occasion dates, in order
//! ```

use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{PersonData, RuleSet};
use crate::roster::Document;
use crate::roster::{Category, Person, Rank, SelfCare};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    rule: String,
    #[serde(rename = "case", default)]
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    year: i32,
    person: TestPerson,
    #[serde(default)]
    events: Vec<TestEvent>,
    #[serde(default)]
    documents: Vec<TestDocument>,
    /// Expected occasion dates, in date order.
    #[serde(default)]
    expect: Option<Vec<NaiveDate>>,
    /// Expected remind days of all occasions (moved to working days as the planner
    /// moves them), in date order.
    #[serde(default)]
    expect_reminders: Option<Vec<NaiveDate>>,
    /// Expected titles as the rule writes them, in occasion order.
    #[serde(default)]
    expect_titles: Option<Vec<String>>,
    /// Whether every occasion is urgent.
    #[serde(default)]
    expect_urgent: Option<bool>,
    /// Expected recipients (`to`, "staff" when not given), in occasion order.
    #[serde(default)]
    expect_to: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestEvent {
    kind: String,
    date: NaiveDate,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestDocument {
    title: String,
    issued: NaiveDate,
    deadline: NaiveDate,
    audience: Vec<String>,
    min_rank: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestPerson {
    #[serde(default = "default_name")]
    name: String,
    birth_date: NaiveDate,
    #[serde(default)]
    lunar_birthday: bool,
    lunar_birth_date: Option<String>,
    #[serde(default = "default_category")]
    category: String,
    #[serde(default)]
    rank: String,
    #[serde(default)]
    party_branch: Option<String>,
    #[serde(default)]
    self_care: String,
    #[serde(default)]
    lives_alone: bool,
    #[serde(default)]
    hardship: bool,
    #[serde(default)]
    empty_nest: bool,
    #[serde(default)]
    widowed: bool,
    #[serde(default)]
    sex: Option<String>,
    #[serde(default)]
    community: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    hospitalised_since: Option<NaiveDate>,
    deceased_on: Option<NaiveDate>,
    #[serde(default)]
    number: Option<String>,
    #[serde(default)]
    id_number: Option<String>,
    #[serde(default)]
    former_unit: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    family_phone: Option<String>,
    #[serde(default)]
    address: Option<String>,
    #[serde(default)]
    health: Option<String>,
    /// 联系人 工号
    #[serde(default)]
    staff: Option<Vec<String>>,
}

fn default_name() -> String {
    "测试".into()
}
fn default_category() -> String {
    "退休".into()
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub name: String,
    pub file: String,
    pub rule: String,
    pub passed: bool,
    pub message: String,
}

/// A plain person used by the load-time smoke test.
pub(super) fn probe_person() -> Person {
    let mut p = Person::new(
        "试运行",
        NaiveDate::from_ymd_opt(1936, 5, 1).unwrap(),
        Category::Lixiu,
        Rank::Division,
    );
    p.number = Some("PROBE".into());
    p.party_branch = Some("第一党支部".into());
    p.staff = vec!["S001".into()];
    p.facts.lunar_birthday = true;
    p.facts.self_care = SelfCare::Partial;
    p.facts.lives_alone = true;
    p.facts.hospitalised_since = Some(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap());
    p
}

fn to_person(t: &TestPerson) -> Result<Person, String> {
    let mut p = probe_person();
    p.name = t.name.clone();
    p.number = Some("CASE".into());
    p.facts.birth_date = t.birth_date;
    p.facts.lunar_birthday = t.lunar_birthday;
    p.facts.lunar_birth_date = match &t.lunar_birth_date {
        Some(s) => Some(s.parse().map_err(|_| {
            format!("lunar_birth_date {s:?} is not like 1930-06-15 or 1930-闰06-15")
        })?),
        None => None,
    };
    p.facts.category =
        Category::parse(&t.category).ok_or_else(|| format!("category {:?}", t.category))?;
    p.facts.rank = Rank::parse(&t.rank).ok_or_else(|| format!("rank {:?}", t.rank))?;
    p.party_branch = t.party_branch.clone();
    p.facts.self_care =
        SelfCare::parse(&t.self_care).ok_or_else(|| format!("self_care {:?}", t.self_care))?;
    p.facts.lives_alone = t.lives_alone;
    p.facts.hardship = t.hardship;
    p.facts.empty_nest = t.empty_nest;
    p.facts.widowed = t.widowed;
    p.facts.sex = match &t.sex {
        Some(x) => {
            Some(crate::roster::Sex::parse(x).ok_or_else(|| format!("sex {x:?}: 男 or 女"))?)
        }
        None => None,
    };
    p.community = t.community.clone();
    p.tags = t.tags.clone();
    p.facts.hospitalised_since = t.hospitalised_since;
    p.facts.deceased_on = t.deceased_on;
    if let Some(n) = &t.number {
        p.number = Some(n.clone());
    }
    p.id_number = t.id_number.clone();
    p.former_unit = t.former_unit.clone();
    p.phone = t.phone.clone();
    p.family_phone = t.family_phone.clone();
    p.address = t.address.clone();
    p.health = t.health.clone();
    if let Some(staff) = &t.staff {
        p.staff = staff.clone();
    }
    Ok(p)
}

pub(super) fn run(set: &RuleSet, files: &[(String, String)]) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for (file, text) in files {
        let parsed: CaseFile = match toml::from_str(text) {
            Ok(c) => c,
            Err(e) => {
                // Once, with its own line and column.
                let at = e
                    .span()
                    .map(|span| {
                        let before = &text[..span.start.min(text.len())];
                        let line = before.matches('\n').count() + 1;
                        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
                        format!("第{line}行第{column}列 (line {line}, column {column}): ")
                    })
                    .unwrap_or_default();
                out.push(CaseResult {
                    name: file.clone(),
                    file: file.clone(),
                    rule: String::new(),
                    passed: false,
                    message: format!(
                        "{at}测试用例文件写错了 cannot read test file: {}",
                        e.message().trim()
                    ),
                });
                continue;
            }
        };
        // A rule that did not load has its error above; its cases are one line,
        // not one failure each burying it.
        if set.get(&parsed.rule).is_none() {
            out.push(CaseResult {
                name: format!("{} ({} 个测试用例)", parsed.rule, parsed.cases.len()),
                file: file.clone(),
                rule: parsed.rule.clone(),
                passed: false,
                message: format!(
                    "规则 {} 没有加载(错误见上面该规则的文件),它的测试用例未运行 \
                     (rule not loaded; its cases were not run)",
                    parsed.rule
                ),
            });
            continue;
        }
        for case in &parsed.cases {
            let result = run_case(set, &parsed.rule, case);
            out.push(CaseResult {
                name: format!("{} / {}", parsed.rule, case.name),
                file: file.clone(),
                rule: parsed.rule.clone(),
                passed: result.is_ok(),
                message: result.err().unwrap_or_default(),
            });
        }
    }
    out
}

fn run_case(set: &RuleSet, rule_id: &str, case: &Case) -> Result<(), String> {
    let rule = set
        .get(rule_id)
        .ok_or_else(|| format!("no loaded rule with id {rule_id:?}"))?;
    let person = to_person(&case.person)?;
    let mut events: Vec<(String, NaiveDate)> = case
        .events
        .iter()
        .map(|e| (e.kind.clone(), e.date))
        .collect();
    if let Some(d) = person.facts.hospitalised_since
        && !events.iter().any(|(k, x)| k == "hospitalised" && *x == d)
    {
        events.push(("hospitalised".into(), d));
    }
    events.sort_by_key(|(_, d)| *d);
    let mut docs = Vec::new();
    for (i, d) in case.documents.iter().enumerate() {
        let mut audience = Vec::new();
        for a in &d.audience {
            audience.push(Category::parse(a).ok_or_else(|| format!("document audience {a:?}"))?);
        }
        docs.push(Document {
            id: i as i64 + 1,
            title: d.title.clone(),
            issued_on: d.issued,
            deadline: d.deadline,
            audience,
            min_rank: match &d.min_rank {
                Some(r) => Some(Rank::parse(r).ok_or_else(|| format!("min_rank {r:?}"))?),
                None => None,
            },
        });
    }
    let data = Arc::new(PersonData::new(1, person, true, events, Arc::new(docs)));
    let mut occasions = set
        .eval(rule, &data, case.year)
        .map_err(|e| e.to_string())?;
    occasions.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.key.cmp(&b.key)));
    if case.expect.is_none()
        && case.expect_reminders.is_none()
        && case.expect_titles.is_none()
        && case.expect_urgent.is_none()
        && case.expect_to.is_none()
    {
        return Err(
            "测试用例没有写要检查什么:请写 expect(事项日期)或 expect_reminders、expect_titles、\
             expect_urgent、expect_to (the case expects nothing)"
                .into(),
        );
    }
    let show = |v: &[String]| v.join(", ");
    let mut problems = Vec::new();
    if let Some(want) = &case.expect {
        let got: Vec<NaiveDate> = occasions.iter().map(|o| o.date).collect();
        let mut want = want.clone();
        want.sort();
        if got != want {
            problems.push(format!(
                "expected [{}], got [{}]",
                show(&want.iter().map(|d| d.to_string()).collect::<Vec<_>>()),
                show(&got.iter().map(|d| d.to_string()).collect::<Vec<_>>())
            ));
        }
    }
    if let Some(want) = &case.expect_reminders {
        let cal = set.calendar();
        let mut got: Vec<NaiveDate> = occasions
            .iter()
            .flat_map(|o| {
                let days: Vec<NaiveDate> = match &o.remind_on {
                    Some(days) => days.clone(),
                    None => rule
                        .remind_before
                        .iter()
                        .map(|lead| o.date - chrono::Duration::days(*lead))
                        .collect(),
                };
                days.into_iter()
                    .map(|d| {
                        if o.urgent {
                            d
                        } else {
                            cal.workday_on_or_before(d)
                        }
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        got.sort();
        got.dedup();
        let mut want = want.clone();
        want.sort();
        if got != want {
            problems.push(format!(
                "expect_reminders: expected [{}], got [{}]",
                show(&want.iter().map(|d| d.to_string()).collect::<Vec<_>>()),
                show(&got.iter().map(|d| d.to_string()).collect::<Vec<_>>())
            ));
        }
    }
    if let Some(want) = &case.expect_titles {
        let got: Vec<String> = occasions.iter().map(|o| o.title.clone()).collect();
        if &got != want {
            problems.push(format!(
                "expect_titles: expected [{}], got [{}]",
                show(want),
                show(&got)
            ));
        }
    }
    if let Some(want) = case.expect_urgent {
        let got: Vec<bool> = occasions.iter().map(|o| o.urgent).collect();
        if got.is_empty() || got.iter().any(|u| *u != want) {
            problems.push(format!("expect_urgent: expected {want}, got {got:?}"));
        }
    }
    if let Some(want) = &case.expect_to {
        let got: Vec<String> = occasions
            .iter()
            .map(|o| o.to.clone().unwrap_or_else(|| "staff".into()))
            .collect();
        if &got != want {
            problems.push(format!(
                "expect_to: expected [{}], got [{}]",
                show(want),
                show(&got)
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}
