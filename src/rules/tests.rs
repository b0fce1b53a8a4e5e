//! Unit tests of loading, evaluation, the cache and the memo.

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
            (
                "a.rhai".into(),
                "const RULE = #{ title: \"x\" };\nfn occasions(p, y) { [] }".into(),
            ),
            (
                "b.rhai".into(),
                "const RULE = #{ id: \"b\", remind_before: [\"7\"] };\nfn occasions(p, y) { [] }"
                    .into(),
            ),
            (
                "c.rhai".into(),
                "const RULE = #{ id: \"c\" };\nfn other(p, y) { [] }".into(),
            ),
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
                p.facts.category =
                    [Category::Lixiu, Category::Tuixiu, Category::Yishu][i as usize % 3];
                p.facts.rank = [Rank::Division, Rank::Other][i as usize % 2];
                p.facts.lives_alone = i % 5 == 0;
                p.party_branch = (i % 4 != 0).then(|| "第一支部".to_string());
                p.facts.birth_date = chrono::NaiveDate::from_ymd_opt(
                    1930 + (i as i32 % 7) * 2,
                    1 + (i as u32 % 12),
                    1 + (i as u32 % 28),
                )
                .unwrap();
                p.facts.lunar_birthday = i % 3 == 0;
                p.facts.lunar_birth_date = None;
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

/// Duplicate ids, in both orders: with a running set, the file that was not in it
/// is refused, naming both; on a first load neither file is loaded.
#[test]
fn duplicate_ids_refuse_the_newcomer_or_both() {
    let rule = |title: &str| {
        format!(
            "const RULE = #{{ id: \"dup\", title: \"{title}\" }};\nfn occasions(p, year) {{ [] }}\n"
        )
    };
    let files = |names: &[&str]| -> Vec<(String, String)> {
        names.iter().map(|n| (n.to_string(), rule(n))).collect()
    };
    // First load: neither.
    for order in [["a.rhai", "b.rhai"], ["b.rhai", "a.rhai"]] {
        let set = RuleSet::from_sources(files(&order), Vec::new(), WorkCalendar::builtin(), None);
        assert!(set.get("dup").is_none(), "{order:?}");
        assert_eq!(set.errors.len(), 2, "{:?}", set.errors);
        for e in &set.errors {
            assert!(
                e.message.contains("a.rhai") && e.message.contains("b.rhai"),
                "{e}"
            );
            assert!(e.message.contains("两个文件都没有加载"), "{e}");
        }
    }
    // A running set holds one of them: the other is refused, whichever sorts first.
    for (running, newcomer) in [("a.rhai", "b.rhai"), ("b.rhai", "a.rhai")] {
        let first =
            RuleSet::from_sources(files(&[running]), Vec::new(), WorkCalendar::builtin(), None);
        let mut both = files(&[running, newcomer]);
        both.sort();
        let set = RuleSet::from_sources(both, Vec::new(), WorkCalendar::builtin(), Some(&first));
        assert_eq!(set.get("dup").unwrap().file, running);
        assert_eq!(set.errors.len(), 1, "{:?}", set.errors);
        assert_eq!(set.errors[0].file, newcomer);
        assert!(set.errors[0].message.contains(running), "{}", set.errors[0]);
    }
}
