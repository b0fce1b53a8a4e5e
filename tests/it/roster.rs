//! Roster import through the binary, on every backend: the public sample, each kind
//! of bad value (named by row and column, masked, and changing nothing), the import
//! policies, GBK CSV, Excel's ways of storing dates, and re-imports that record events.

use crate::support::{
    Roster, TestDb, X, backends, check_json, excel_serial, fixture, id_number, import, masked_id,
    person_count, preview, qinqing, t, with_wrong_check, ymd,
};

#[test]
fn public_sample_imports() {
    for db in backends() {
        let out = import(&db, &fixture("roster.xlsx"), &[]).ok();
        assert!(
            out.stdout.contains("44 added"),
            "[{}] {}",
            db.name(),
            out.stdout
        );
        let c = check_json(&db);
        for key in ["persons", "active_persons", "staff", "unassigned"] {
            assert!(
                c.get(key).is_some(),
                "[{}] check JSON lacks {key}: {c}",
                db.name()
            );
        }
        assert_eq!(c["persons"], 44, "[{}]", db.name());
        assert_eq!(c["staff"], 12, "[{}]", db.name());
        assert_eq!(c["unassigned"], 0, "[{}]", db.name());
        // One person (LG0007) has a 去世日期 and is not active.
        assert_eq!(c["active_persons"], 43, "[{}]", db.name());
        assert_eq!(c["deceased"], 1, "[{}]", db.name());
    }
}

/// One bad cell: how to make it, the sheet, column and a word of the reason.
struct Bad {
    what: &'static str,
    sheet: &'static str,
    column: &'static str,
    /// Data row (0-based) of the bad cell.
    row: usize,
    reason: &'static str,
    make: fn(&mut Roster),
}

fn bad_cases() -> Vec<Bad> {
    vec![
        Bad {
            what: "bad date text",
            sheet: "花名册",
            column: "出生日期",
            row: 1,
            reason: "无法识别",
            make: |r| {
                r.persons.set(1, "出生日期", t("三五年七月"));
            },
        },
        Bad {
            what: "impossible date",
            sheet: "花名册",
            column: "出生日期",
            row: 2,
            reason: "不存在",
            make: |r| {
                r.persons.set(2, "出生日期", t("1935-02-30"));
            },
        },
        Bad {
            what: "wrong check digit",
            sheet: "花名册",
            column: "身份证号",
            row: 3,
            reason: "校验位",
            make: |r| {
                let id = with_wrong_check(&r.id(3));
                r.persons.set(3, "身份证号", t(id));
            },
        },
        Bad {
            what: "18-digit ID stored as an Excel number",
            sheet: "花名册",
            column: "身份证号",
            row: 0,
            reason: "数字",
            make: |r| {
                // A number-only ID (no X) stored as a number loses its last digits.
                let birth = ymd(1938, 1, 3);
                let mut seq = 0;
                let id = loop {
                    let id = id_number("370102", birth, seq);
                    if !id.ends_with('X') {
                        break id;
                    }
                    seq += 1;
                };
                r.persons.set(0, "出生日期", t("1938-01-03"));
                r.persons
                    .set(0, "身份证号", X::Number(id.parse::<f64>().unwrap()));
            },
        },
        Bad {
            what: "ID birth date differs from 出生日期",
            sheet: "花名册",
            column: "身份证号",
            row: 4,
            reason: "不一致",
            make: |r| {
                r.persons.set(4, "出生日期", t("1931-01-01"));
            },
        },
        Bad {
            what: "duplicate ID in one file",
            sheet: "花名册",
            column: "身份证号",
            row: 5,
            reason: "重复",
            make: |r| {
                let first = r.persons.rows[2].clone();
                let mut dup = first;
                dup[r.persons.col("编号")] = t("T0099");
                r.persons.rows[5] = dup;
            },
        },
        Bad {
            what: "联系人 naming an unknown staff member",
            sheet: "花名册",
            column: "联系人",
            row: 2,
            reason: "S077",
            make: |r| {
                r.persons.set(2, "联系人", t("S002、S077"));
            },
        },
        Bad {
            what: "上级 naming an unknown staff member",
            sheet: "工作人员",
            column: "上级",
            row: 2,
            reason: "S088",
            make: |r| {
                r.staff.set(2, "上级", t("S088"));
            },
        },
        Bad {
            what: "bad 是/否",
            sheet: "花名册",
            column: "独居",
            row: 1,
            reason: "是 或 否",
            make: |r| {
                r.persons.set(1, "独居", t("有时"));
            },
        },
        Bad {
            what: "unknown 类别",
            sheet: "花名册",
            column: "类别",
            row: 3,
            reason: "类别",
            make: |r| {
                r.persons.set(3, "类别", t("在职"));
            },
        },
        Bad {
            what: "bad phone",
            sheet: "花名册",
            column: "联系电话",
            row: 4,
            reason: "电话号码",
            make: |r| {
                r.persons.set(4, "联系电话", t("1391234567a"));
            },
        },
    ]
}

/// Each kind of bad value: the import fails, stderr names file, sheet, row and
/// column, and nothing is imported (a file with one error changes nothing).
#[test]
fn each_bad_value_is_rejected_with_row_and_column() {
    for db in backends() {
        for (n, case) in bad_cases().into_iter().enumerate() {
            let mut r = Roster::synthetic(8);
            (case.make)(&mut r);
            let file = r.save(&db, &format!("bad{n}.xlsx"));
            let out = import(&db, &file, &[]).fails();
            let row = case.row + 2;
            let want = format!(
                "bad{n}.xlsx, sheet {}, row {row} (第{row}行), column {}",
                case.sheet, case.column
            );
            let line = out
                .stderr
                .lines()
                .find(|l| l.contains(&want))
                .unwrap_or_else(|| {
                    panic!(
                        "[{}] {}: no line with {want:?} in stderr:\n{}",
                        db.name(),
                        case.what,
                        out.stderr
                    )
                });
            assert!(
                line.contains(case.reason),
                "[{}] {}: reason lacks {:?}: {line}",
                db.name(),
                case.what,
                case.reason
            );
            assert!(
                out.stderr.contains("nothing was imported"),
                "[{}] {}: {}",
                db.name(),
                case.what,
                out.stderr
            );
            let c = check_json(&db);
            assert_eq!(c["persons"], 0, "[{}] {}", db.name(), case.what);
            assert_eq!(c["staff"], 0, "[{}] {}", db.name(), case.what);
        }
    }
}

/// A bad file leaves an already imported roster exactly as it was.
#[test]
fn bad_reimport_changes_nothing() {
    for db in backends() {
        let mut r = Roster::synthetic(6);
        import(&db, &r.save(&db, "good.xlsx"), &[]).ok();
        r.persons.set(0, "姓名", t("新名字"));
        r.persons.set(1, "出生日期", t("1935-02-30"));
        r.persons.remove_row(5);
        import(&db, &r.save(&db, "bad.xlsx"), &["--deactivate-missing"]).fails();
        let c = check_json(&db);
        assert_eq!(c["persons"], 6, "[{}]", db.name());
        assert_eq!(c["active_persons"], 6, "[{}]", db.name());
        // The rename was not applied: a third import of the good file is unchanged.
        let again = import(&db, &db.path("good.xlsx"), &[]).ok();
        assert!(
            again.stdout.contains("0 added, 0 changed, 6 unchanged"),
            "[{}] {}",
            db.name(),
            again.stdout
        );
    }
}

/// Error lines show a 身份证号 masked (first character, stars, last two) and never a
/// full ID or a full phone number.
#[test]
fn error_values_are_masked() {
    for db in backends() {
        let mut r = Roster::synthetic(6);
        let wrong = with_wrong_check(&r.id(1));
        r.persons.set(1, "身份证号", t(wrong.clone()));
        let phone = "1391234567a";
        r.persons.set(2, "联系电话", t(phone));
        // The ID birth date disagrees with 出生日期: the (valid) ID is shown masked.
        let id3 = r.id(3);
        r.persons.set(3, "出生日期", t("1931-01-01"));
        let out = import(&db, &r.save(&db, "masked.xlsx"), &[]).fails();
        for full in [wrong.as_str(), phone, id3.as_str()] {
            assert!(
                !out.all().contains(full),
                "[{}] full value {full} printed:\n{}",
                db.name(),
                out.all()
            );
        }
        let masked = masked_id(&wrong);
        assert_eq!(masked.len(), 18);
        assert!(masked[1..16].chars().all(|c| c == '*'));
        assert!(
            out.stderr.contains(&format!("value \"{masked}\"")),
            "[{}] no {masked} in:\n{}",
            db.name(),
            out.stderr
        );
        assert!(
            out.stderr
                .contains(&format!("value \"{}\"", masked_id(&id3))),
            "[{}] {}",
            db.name(),
            out.stderr
        );
        assert!(
            out.stderr.contains("value \"139****567a\""),
            "[{}] {}",
            db.name(),
            out.stderr
        );
        // No error line carries a person's name either.
        for i in 0..6 {
            let name = r.persons.text(i, "姓名");
            assert!(
                !out.stderr.contains(&name),
                "[{}] name {name} printed",
                db.name()
            );
        }
    }
}

#[test]
fn skip_invalid_keeps_the_good_rows() {
    for db in backends() {
        let mut r = Roster::synthetic(7);
        r.persons.set(4, "类别", t("在职"));
        let out = import(&db, &r.save(&db, "skip.xlsx"), &["--skip-invalid"]).ok();
        assert!(
            out.stderr.contains("row 6 (第6行), column 类别"),
            "[{}] {}",
            db.name(),
            out.stderr
        );
        assert!(
            out.stdout.contains("6 added") && out.stdout.contains("1 invalid row(s) skipped"),
            "[{}] {}",
            db.name(),
            out.stdout
        );
        assert_eq!(person_count(&db), 6, "[{}]", db.name());
    }
}

#[test]
fn dry_run_changes_nothing() {
    for db in backends() {
        let r = Roster::synthetic(5);
        let file = r.save(&db, "dry.xlsx");
        let out = import(&db, &file, &["--dry-run"]).ok();
        assert!(
            out.stdout.contains("dry run") && out.stdout.contains("would add 5"),
            "[{}] {}",
            db.name(),
            out.stdout
        );
        let c = check_json(&db);
        assert_eq!(c["persons"], 0, "[{}]", db.name());
        assert_eq!(c["staff"], 0, "[{}]", db.name());

        // After a real import, a dry run of a changed file changes nothing either.
        import(&db, &file, &[]).ok();
        let mut r2 = r.clone();
        r2.persons.set(0, "去世日期", t("2026-02-20"));
        r2.persons.remove_row(4);
        let out = import(
            &db,
            &r2.save(&db, "dry2.xlsx"),
            &["--dry-run", "--deactivate-missing"],
        )
        .ok();
        assert!(
            out.stdout.contains("would add 0, change 1"),
            "{}",
            out.stdout
        );
        let c = check_json(&db);
        assert_eq!(c["persons"], 5, "[{}]", db.name());
        assert_eq!(c["active_persons"], 5, "[{}]", db.name());
        assert_eq!(c["deceased"], 0, "[{}]", db.name());

        // A dry run of a bad file reports the error and exits non-zero.
        let mut bad = r.clone();
        bad.persons.set(2, "出生日期", t("1935-02-30"));
        let out = import(&db, &bad.save(&db, "dry3.xlsx"), &["--dry-run"]).fails();
        assert!(
            out.stderr.contains("row 4 (第4行), column 出生日期"),
            "{}",
            out.stderr
        );
    }
}

/// A CSV saved by Excel on a Chinese Windows: GBK, CRLF. Names come through intact.
#[test]
fn gbk_csv_imports() {
    for db in backends() {
        let r = Roster::synthetic(9);
        let persons = db.path("花名册.csv");
        let staff = db.path("工作人员.csv");
        for (path, text) in [(&persons, r.persons.to_csv()), (&staff, r.staff.to_csv())] {
            let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
            assert!(!unmappable);
            assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
            std::fs::write(path, &bytes).unwrap();
        }
        import(&db, &persons, &["--staff", staff.to_str().unwrap()]).ok();
        let c = check_json(&db);
        assert_eq!(c["persons"], 9, "[{}]", db.name());
        assert_eq!(c["staff"], 3, "[{}]", db.name());
        assert_eq!(c["by_category"]["离休"], 3, "[{}] {c}", db.name());
        assert_eq!(c["by_category"]["退休"], 3, "[{}] {c}", db.name());
        assert_eq!(c["by_category"]["遗属"], 3, "[{}] {c}", db.name());
        // The March call reminders carry the names as written.
        let stages = preview(&db, "2026-03-01", "2026-03-10", &["--rule", "monthly-call"]);
        for i in 0..9 {
            let id = r.id(i);
            let name = r.persons.text(i, "姓名");
            let s = stages
                .iter()
                .find(|s| s["person"] == id.as_str())
                .unwrap_or_else(|| panic!("[{}] no March call for {id}", db.name()));
            assert!(
                s["title"].as_str().unwrap().contains(&name),
                "[{}] {} lacks {name}",
                db.name(),
                s["title"]
            );
        }
    }
}

/// Excel serial numbers, yyyymmdd numbers and date-formatted cells all mean the
/// date Excel shows: the ID check agrees, and the 90+ birthdays fall on the right day.
#[test]
fn excel_date_forms_are_read_right() {
    for db in backends() {
        let mut r = Roster::synthetic(3);
        let cases = [
            (ymd(1930, 3, 6), X::Number(11023.0)),
            (ymd(1935, 7, 12), X::Number(19_350_712.0)),
            (ymd(1936, 2, 29), X::Date(ymd(1936, 2, 29))),
        ];
        assert_eq!(excel_serial(ymd(1930, 3, 6)), 11023.0);
        for (i, (birth, cell)) in cases.iter().enumerate() {
            r.persons
                .set(i, "身份证号", t(id_number("110105", *birth, 11 + i as u32)));
            r.persons.set(i, "出生日期", cell.clone());
        }
        import(&db, &r.save(&db, "dates.xlsx"), &[]).ok();
        for (i, want) in ["2026-03-06", "2026-07-12", "2026-02-28"]
            .iter()
            .enumerate()
        {
            let id = r.id(i);
            let stages = preview(
                &db,
                "2026-01-01",
                "2026-12-31",
                &["--person", &id, "--rule", "birthday-milestone"],
            );
            assert!(!stages.is_empty(), "[{}] no birthday for {id}", db.name());
            for s in &stages {
                assert_eq!(s["occasion_on"], *want, "[{}] {id}: {s}", db.name());
                assert_eq!(s["person"], id.as_str());
            }
        }
    }
}

/// A re-import records what changed: a 住院日期 means a hospital visit on that day, a
/// 去世日期 a condolence; emptying 住院日期 is a discharge, not an error.
#[test]
fn reimport_records_events() {
    for db in backends() {
        let mut r = Roster::synthetic(6);
        qinqing(&db)
            .now("2026-02-01T09:00:00+08:00")
            .arg("import")
            .arg(r.save(&db, "v1.xlsx"))
            .run()
            .ok();
        let (sick, dead) = (r.id(1), r.id(2));
        r.persons.set(1, "住院日期", t("2026-02-27"));
        r.persons.set(2, "去世日期", X::Date(ymd(2026, 2, 25)));
        let out = qinqing(&db)
            .now("2026-03-01T09:00:00+08:00")
            .arg("import")
            .arg(r.save(&db, "v2.xlsx"))
            .run()
            .ok();
        assert!(
            out.stdout.contains("2 changed") && out.stdout.contains("2 event(s) recorded"),
            "[{}] {}",
            db.name(),
            out.stdout
        );
        let stages = preview(&db, "2026-02-01", "2026-03-31", &[]);
        let hv: Vec<_> = stages
            .iter()
            .filter(|s| s["rule"] == "hospital-visit" && s["person"] == sick.as_str())
            .collect();
        assert!(
            hv.iter()
                .any(|s| s["stage"] == "remind" && s["remind_on"] == "2026-02-27"),
            "[{}] no hospital-visit stage on 2026-02-27: {hv:?}",
            db.name()
        );
        let cd: Vec<_> = stages
            .iter()
            .filter(|s| s["rule"] == "condolence" && s["person"] == dead.as_str())
            .collect();
        assert!(
            cd.iter().any(|s| s["stage"] == "remind"
                && s["remind_on"] == "2026-02-25"
                && s["occasion_on"] == "2026-02-26"),
            "[{}] no condolence stage: {cd:?}",
            db.name()
        );
        // After the death only the condolence is planned for that person.
        assert!(
            stages.iter().all(|s| s["person"] != dead.as_str()
                || s["rule"] == "condolence"
                || s["remind_on"].as_str().unwrap() <= "2026-02-25"),
            "[{}] stages after the death",
            db.name()
        );
        let c = check_json(&db);
        assert_eq!(c["deceased"], 1, "[{}]", db.name());
        assert_eq!(c["active_persons"], 5, "[{}]", db.name());

        // Discharged: 住院日期 emptied.
        r.persons.set(1, "住院日期", X::Empty);
        let out = qinqing(&db)
            .now("2026-03-05T09:00:00+08:00")
            .arg("import")
            .arg(r.save(&db, "v3.xlsx"))
            .run()
            .ok();
        assert!(
            out.stdout.contains("1 changed") && out.stdout.contains("1 event(s) recorded"),
            "[{}] {}",
            db.name(),
            out.stdout
        );
        assert!(!out.stderr.contains("error"), "{}", out.stderr);
    }
}

/// Persons missing from a re-import are reported and kept; with
/// `--deactivate-missing` they become inactive.
#[test]
fn missing_persons_reported_then_deactivated() {
    for db in backends() {
        let mut r = Roster::synthetic(6);
        import(&db, &r.save(&db, "all.xlsx"), &[]).ok();
        let gone = r.id(3);
        r.persons.remove_row(3);
        let file = r.save(&db, "five.xlsx");
        let out = import(&db, &file, &[]).ok();
        assert!(
            out.stderr.contains("missing"),
            "[{}] {}",
            db.name(),
            out.stderr
        );
        assert!(out.stderr.contains(&masked_id(&gone)), "{}", out.stderr);
        assert!(!out.all().contains(&gone), "full ID printed: {}", out.all());
        let c = check_json(&db);
        assert_eq!(c["persons"], 6, "[{}]", db.name());
        assert_eq!(c["active_persons"], 6, "[{}]", db.name());

        let out = import(&db, &file, &["--deactivate-missing"]).ok();
        assert!(out.stderr.contains("marked inactive"), "{}", out.stderr);
        let c = check_json(&db);
        assert_eq!(c["persons"], 6, "[{}]", db.name());
        assert_eq!(c["active_persons"], 5, "[{}]", db.name());
        // Inactive persons get no reminders.
        let stages = preview(&db, "2026-03-01", "2026-03-31", &["--person", &gone]);
        assert!(stages.is_empty(), "[{}] {stages:?}", db.name());

        // Back in the roster: active again, and planned again.
        let out = import(&db, &db.path("all.xlsx"), &[]).ok();
        assert!(
            out.stdout.contains("1 changed, 5 unchanged"),
            "{}",
            out.stdout
        );
        let c = check_json(&db);
        assert_eq!(c["active_persons"], 6, "[{}]", db.name());
        let stages = preview(&db, "2026-03-01", "2026-03-31", &["--person", &gone]);
        assert!(
            !stages.is_empty(),
            "[{}] reactivated person not planned",
            db.name()
        );
    }
}

#[test]
fn unknown_column_is_a_warning() {
    for db in backends() {
        let mut r = Roster::synthetic(4);
        r.persons.add_column("备注");
        r.persons.set(0, "备注", t("爱下象棋"));
        let out = import(&db, &r.save(&db, "extra.xlsx"), &[]).ok();
        let warning = out
            .stderr
            .lines()
            .find(|l| l.starts_with("warning:") && l.contains("备注"))
            .unwrap_or_else(|| panic!("[{}] no warning: {}", db.name(), out.stderr));
        assert!(warning.contains("extra.xlsx"), "{warning}");
        assert_eq!(person_count(&db), 4, "[{}]", db.name());
    }
}

/// An unknown key in the config file is an error naming the key and the file.
#[test]
fn config_unknown_key_is_named() {
    let db = TestDb::sqlite();
    let cfg = db.path("qq.toml");
    std::fs::write(
        &cfg,
        "[schedule]\nplan_at = \"07:00\"\nsend_att = \"08:30\"\n",
    )
    .unwrap();
    let r = Roster::synthetic(2);
    let file = r.save(&db, "r.xlsx");
    let out = qinqing(&db)
        .arg("--config")
        .arg(&cfg)
        .arg("import")
        .arg(&file)
        .run()
        .fails();
    assert!(out.stderr.contains("send_att"), "{}", out.stderr);
    assert!(out.stderr.contains("qq.toml"), "{}", out.stderr);
    assert_eq!(person_count(&db), 0);

    // A missing config file named with --config is an error too.
    let out = qinqing(&db)
        .arg("--config")
        .arg(db.path("nope.toml"))
        .args(["check"])
        .run()
        .fails();
    assert!(out.stderr.contains("nope.toml"), "{}", out.stderr);
}

/// `Roster::synthetic` itself is valid: every ID passes the check and agrees with
/// 出生日期 (else every other test here would test nothing).
#[test]
fn synthetic_roster_is_valid() {
    let db = TestDb::sqlite();
    let r = Roster::synthetic(12);
    let out = import(&db, &r.save(&db, "s.xlsx"), &[]).ok();
    assert!(out.stdout.contains("12 added"), "{}", out.stdout);
    assert!(out.stderr.trim().is_empty(), "{}", out.stderr);
}

/// With `--dry-run` (or a rejected file), `--deactivate-missing` deactivates nothing,
/// so the report must not say the missing persons were marked inactive.
#[test]
fn dry_run_does_not_claim_deactivation() {
    for db in backends() {
        let mut r = Roster::synthetic(5);
        import(&db, &r.save(&db, "all.xlsx"), &[]).ok();
        r.persons.remove_row(1);
        let out = import(
            &db,
            &r.save(&db, "four.xlsx"),
            &["--dry-run", "--deactivate-missing"],
        )
        .ok();
        assert!(out.stderr.contains("missing"), "{}", out.stderr);
        assert!(
            !out.stderr.contains("marked inactive"),
            "[{}] dry run claims a change:\n{}",
            db.name(),
            out.stderr
        );
        r.persons.set(0, "类别", t("在职"));
        let out = import(&db, &r.save(&db, "bad.xlsx"), &["--deactivate-missing"]).fails();
        assert!(
            !out.stderr.contains("marked inactive"),
            "[{}] rejected import claims a change:\n{}",
            db.name(),
            out.stderr
        );
        assert_eq!(check_json(&db)["active_persons"], 5, "[{}]", db.name());
    }
}

/// Even at trace level, nothing written to stderr carries a full 身份证号 or mobile
/// number: import, re-import with a missing person, check, preview, a bad contact.
#[test]
fn stderr_never_shows_full_numbers_even_at_trace() {
    let full = |s: &str| -> Option<String> {
        // 18 characters of digits (last may be X), or an 11-digit mobile.
        let b: Vec<char> = s.chars().collect();
        for w in [18usize, 11] {
            for i in 0..b.len().saturating_sub(w - 1) {
                let win = &b[i..i + w];
                let digits = win[..w - 1].iter().all(|c| c.is_ascii_digit())
                    && (win[w - 1].is_ascii_digit() || (w == 18 && win[w - 1] == 'X'));
                let bounded = (i == 0 || !b[i - 1].is_ascii_digit())
                    && b.get(i + w).is_none_or(|c| !c.is_ascii_digit());
                if digits && bounded && (w == 18 || win[0] == '1') {
                    return Some(win.iter().collect());
                }
            }
        }
        None
    };
    for db in backends() {
        let mut r = Roster::synthetic(6);
        let trace = |q: crate::support::Qq| q.env("QINQING_LOG", "trace").run();
        let mut stderr = String::new();
        stderr += &trace(qinqing(&db).arg("import").arg(fixture("roster.xlsx")))
            .ok()
            .stderr;
        stderr += &trace(qinqing(&db).arg("import").arg(r.save(&db, "a.xlsx")))
            .ok()
            .stderr;
        r.persons.set(0, "身份证号", t(with_wrong_check(&r.id(0))));
        r.persons.set(1, "联系电话", t("1391234567a"));
        stderr += &trace(
            qinqing(&db)
                .arg("import")
                .arg(r.save(&db, "b.xlsx"))
                .arg("--deactivate-missing"),
        )
        .fails()
        .stderr;
        stderr += &trace(qinqing(&db).args(["check"])).stderr;
        stderr +=
            &trace(qinqing(&db).args(["preview", "--from", "2026-03-01", "--to", "2026-03-31"]))
                .ok()
                .stderr;
        stderr += &trace(qinqing(&db).args([
            "contact",
            "add",
            "--person",
            "370102193801031620X",
            "--staff",
            "S004",
            "--kind",
            "call",
        ]))
        .fails()
        .stderr;
        assert!(!stderr.is_empty());
        assert_eq!(full(&stderr), None, "[{}] full number on stderr", db.name());
        assert!(full("id 11010519491231002X.").is_some() && full("tel 13912345678").is_some());
    }
}
