//! Occasion `to:`: the assigned 联系人 (default), their 上级, a 角色 from the staff
//! sheet (everyone with it, or the one assigned to the person), or a 工号; a `to`
//! that names nobody is a `check` error naming file and line.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::*;

const RULE: &str = r#"// 领导联系:测试 to 的每一种写法
const RULE = #{ id: "leader-contact", title: "领导联系", remind_before: [0], escalate_after: false };

fn occasions(p, year) {
    [
        #{ date: date(year, 9, 1), title: "领导走访", kind: "visit", key: "leader", to: "局领导" },
        #{ date: date(year, 9, 2), title: "上级电话", kind: "call", key: "boss", to: "supervisor" },
        #{ date: date(year, 9, 3), title: "联系人电话", kind: "call", key: "staff" },
        #{ date: date(year, 9, 4), title: "指定工号", kind: "call", key: "one", to: "S005" },
    ]
}
"#;

/// Staff S001 (局领导, no 上级), S002/S003 (上级 S001), S004 (局领导, no 上级), S005;
/// T0001 → S002, T0002 → S003, T0003 → S002 and S004.
fn setup(db: &TestDb, rule: &str) -> std::path::PathBuf {
    let mut roster = Roster::synthetic(3);
    let mut staff = Table::new(&["工号", "姓名", "手机", "上级", "角色"]);
    for (no, name, boss, role) in [
        ("S001", "局长甲", "", "局领导"),
        ("S002", "干事乙", "S001", ""),
        ("S003", "干事丙", "S001", ""),
        ("S004", "副局长丁", "", "局领导、支部书记"),
        ("S005", "联络员戊", "S001", "联络员"),
    ] {
        let cell = |s: &str| {
            if s.is_empty() {
                X::Empty
            } else {
                X::Text(s.into())
            }
        };
        staff.push(BTreeMap::from([
            ("工号", cell(no)),
            ("姓名", cell(name)),
            ("手机", X::Text(format!("1390000000{}", &no[3..]))),
            ("上级", cell(boss)),
            ("角色", cell(role)),
        ]));
    }
    roster.staff = staff;
    roster
        .persons
        .set(2, "联系人", X::Text("S002、S004".into()));
    import(db, &roster.save(db, "roster.xlsx"), &[]).ok();
    let dir = db.path("rules");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("leader-contact.rhai"), rule).unwrap();
    let config = db.path("qinqing.toml");
    std::fs::write(
        &config,
        format!("[rules]\npath = {:?}\n", dir.display().to_string()),
    )
    .unwrap();
    config
}

#[test]
fn to_routes_to_staff_supervisor_role_and_number() {
    for db in backends() {
        let config = setup(&db, RULE);
        let rows = qinqing(&db)
            .arg("--config")
            .arg(&config)
            .args([
                "preview",
                "--from",
                "2026-09-01",
                "--to",
                "2026-09-04",
                "--format",
                "json",
            ])
            .run()
            .ok()
            .json_lines();
        let got: BTreeSet<String> = rows
            .iter()
            .map(|v| {
                format!(
                    "{} {} {}",
                    v["occasion_on"].as_str().unwrap(),
                    v["person"].as_str().unwrap(),
                    v["recipient"].as_str().unwrap()
                )
            })
            .collect();
        let ids = Roster::synthetic(3);
        let p = |i: usize| ids.id(i - 1);
        let want: BTreeSet<String> = [
            // 局领导: both leaders, except for T0003, whose own 联系人 S004 is one.
            ("09-01", 1, "S001"),
            ("09-01", 1, "S004"),
            ("09-01", 2, "S001"),
            ("09-01", 2, "S004"),
            ("09-01", 3, "S004"),
            // supervisor: S002's and S003's 上级; S004 has none (and no fallback).
            ("09-02", 1, "S001"),
            ("09-02", 2, "S001"),
            ("09-02", 3, "S001"),
            // default: the assigned staff.
            ("09-03", 1, "S002"),
            ("09-03", 2, "S003"),
            ("09-03", 3, "S002"),
            ("09-03", 3, "S004"),
            // a 工号.
            ("09-04", 1, "S005"),
            ("09-04", 2, "S005"),
            ("09-04", 3, "S005"),
        ]
        .into_iter()
        .map(|(d, i, r)| format!("2026-{d} {} {r}", p(i)))
        .collect();
        assert_eq!(got, want, "[{}]", db.name());

        let out = qinqing(&db)
            .arg("--config")
            .arg(&config)
            .args(["check"])
            .run()
            .ok();
        assert!(!out.all().contains("to:"), "{}", out.all());
    }
}

#[test]
fn an_unknown_role_is_a_check_error_with_file_and_line() {
    let db = TestDb::sqlite();
    let config = setup(&db, &RULE.replace("to: \"局领导\"", "to: \"局领到\""));
    let out = qinqing(&db)
        .arg("--config")
        .arg(&config)
        .args(["check"])
        .run()
        .fails();
    let line = out
        .all()
        .lines()
        .find(|l| l.contains("局领到"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("{}", out.all()));
    assert!(line.contains("leader-contact.rhai 第6行"), "{line}");
    assert!(line.contains("不是工作人员名单里的角色或工号"), "{line}");
    assert!(line.contains("局领导"), "suggests the role: {line}");
    // A wrong type is named too.
    let config = setup(&db, &RULE.replace("to: \"S005\"", "to: 5005"));
    let out = qinqing(&db)
        .arg("--config")
        .arg(&config)
        .args(["check"])
        .run()
        .fails();
    assert!(out.all().contains("to 要写成文字"), "{}", out.all());
}

/// The shipped `leader-contact` is off (`enabled: false`) and plans nothing; turned
/// on, it reminds the 局领导 of each 离休 person on March's first working day.
#[test]
fn the_shipped_leader_contact_is_off_until_enabled() {
    let db = TestDb::sqlite();
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/leader-contact.rhai"),
    )
    .unwrap();
    assert!(shipped.contains("enabled: false"));
    let preview = |config: &std::path::Path| -> Vec<String> {
        qinqing(&db)
            .arg("--config")
            .arg(config)
            .args([
                "preview",
                "--from",
                "2026-03-01",
                "--to",
                "2026-03-31",
                "--format",
                "json",
            ])
            .run()
            .ok()
            .json_lines()
            .iter()
            .filter(|v| v["stage"] == "remind")
            .map(|v| {
                format!(
                    "{} {} {}",
                    v["remind_on"].as_str().unwrap(),
                    v["person"].as_str().unwrap(),
                    v["recipient"].as_str().unwrap()
                )
            })
            .collect()
    };
    let config = setup(&db, &shipped);
    assert_eq!(preview(&config), Vec::<String>::new());
    let config = setup(&db, &shipped.replace("enabled: false", "enabled: true"));
    let t1 = Roster::synthetic(3).id(0);
    assert_eq!(
        preview(&config),
        vec![
            format!("2026-03-02 {t1} S001"),
            format!("2026-03-02 {t1} S004")
        ]
    );
}
