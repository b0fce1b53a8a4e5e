//! Roster files as bureaus have them (issue 13): an HTML table or CSV text saved
//! under `.xls`, Excel's CSV with serial dates and scientific-notation ID numbers,
//! GBK, a BOM, a title above the header; limits on cells; a mixed-encoding CSV;
//! grouped errors and the `--errors` workbook a clerk fixes; and the operator's
//! edges: a missing roster file, a closed pipe, a private SQLite file.

use calamine::{Data, Reader, Xlsx, open_workbook};
use serde_json::Value;

use crate::daemon_support::console;
use crate::support::*;

/// The preview a roster gives, on the seven acceptance fields, sorted.
fn stages(db: &TestDb) -> Vec<String> {
    let mut v: Vec<String> = preview(db, "2026-01-01", "2026-12-31", &[])
        .iter()
        .map(|l| {
            format!(
                "{} {} {} {} {} {}",
                l["remind_on"],
                l["occasion_on"],
                l["rule"],
                l["person"],
                l["recipient"],
                l["stage"]
            )
        })
        .collect();
    v.sort();
    v
}

fn html_table(table: &Table) -> String {
    let mut s = String::from(
        "<html><head><meta http-equiv=Content-Type content=\"text/html; charset=utf-8\"></head><body><table border=1>\n<tr>",
    );
    for h in &table.header {
        s.push_str(&format!("<td><b>{h}</b></td>"));
    }
    s.push_str("</tr>\n");
    for r in &table.rows {
        s.push_str("<tr>");
        for c in r {
            s.push_str(&format!(
                "<td style=\"mso-number-format:'\\@'\">{}</td>",
                c.csv().replace('&', "&amp;").replace('<', "&lt;")
            ));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</table></body></html>\n");
    s
}

#[test]
fn html_and_csv_saved_as_xls_import_like_the_workbook() {
    let r = Roster::synthetic(12);
    let reference = TestDb::sqlite();
    import(&reference, &r.save(&reference, "roster.xlsx"), &[]).ok();
    let want = stages(&reference);
    assert!(!want.is_empty());
    for (name, body) in [
        ("html.xls", html_table(&r.persons)),
        ("csv.xls", r.persons.to_csv()),
    ] {
        let db = TestDb::sqlite();
        let staff = db.path("staff.csv");
        std::fs::write(&staff, r.staff.to_csv()).unwrap();
        let file = db.path(name);
        std::fs::write(&file, body).unwrap();
        import(&db, &file, &["--staff", staff.to_str().unwrap()]).ok();
        assert_eq!(stages(&db), want, "{name}");
    }
    // A WPS .et that is not a workbook says how to save it.
    let db = TestDb::sqlite();
    let et = db.path("roster.et");
    std::fs::write(&et, "not a workbook").unwrap();
    let out = import(&db, &et, &[]).fails();
    assert!(out.stderr.contains("另存为"), "{out:?}");
}

#[test]
fn excel_csv_quirks_import_whole_and_id_numbers_stored_as_numbers_are_named() {
    let r = Roster::synthetic(6);
    let reference = TestDb::sqlite();
    import(&reference, &r.save(&reference, "roster.xlsx"), &[]).ok();
    let want = stages(&reference);
    // GBK, with the birth dates as Excel serial numbers (General format), a title
    // and a date line above the header.
    let mut tbl = r.persons.clone();
    for i in 0..tbl.rows.len() {
        let d: chrono::NaiveDate = tbl.text(i, "出生日期").parse().unwrap();
        tbl.set(i, "出生日期", X::Number(excel_serial(d)));
    }
    let titled = format!(
        "XX市委老干部局离退休干部花名册,,,\n制表日期:2026年9月1日,,,\n{}",
        tbl.to_csv()
    );
    for (name, bytes) in [
        ("gbk.csv", encoding_rs::GBK.encode(&titled).0.into_owned()),
        ("bom.csv", {
            let mut b = b"\xEF\xBB\xBF".to_vec();
            b.extend_from_slice(r.persons.to_csv().as_bytes());
            b
        }),
    ] {
        let db = TestDb::sqlite();
        let staff = db.path("staff.csv");
        std::fs::write(&staff, r.staff.to_csv()).unwrap();
        let file = db.path(name);
        std::fs::write(&file, bytes).unwrap();
        import(&db, &file, &["--staff", staff.to_str().unwrap()]).ok();
        assert_eq!(stages(&db), want, "{name}");
    }
    // ID numbers saved by Excel in scientific notation.
    let mut tbl = r.persons.clone();
    tbl.set(0, "身份证号", t("3.70102E+17"));
    let db = TestDb::sqlite();
    let staff = db.path("staff.csv");
    std::fs::write(&staff, r.staff.to_csv()).unwrap();
    let file = db.path("sci.csv");
    std::fs::write(&file, tbl.to_csv()).unwrap();
    let out = import(&db, &file, &["--staff", staff.to_str().unwrap()]).fails();
    assert!(out.stderr.contains("stored as a number"), "{out:?}");
    assert!(out.stderr.contains("文本"), "{out:?}");
    assert!(out.stderr.contains("row 2"), "{out:?}");
}

#[test]
fn limits_and_mixed_encodings_give_row_errors() {
    let r = Roster::synthetic(6);
    let db = TestDb::sqlite();
    let staff = db.path("staff.csv");
    std::fs::write(&staff, r.staff.to_csv()).unwrap();
    // A 10 MB 住址 and a 1,000-character 姓名.
    let mut tbl = r.persons.clone();
    tbl.add_column("住址");
    tbl.set(1, "住址", t("历".repeat(10 * 1024 * 1024 / 3)));
    tbl.set(3, "姓名", t("王".repeat(1000)));
    let file = db.path("long.csv");
    std::fs::write(&file, tbl.to_csv()).unwrap();
    let out = import(&db, &file, &["--staff", staff.to_str().unwrap()]).fails();
    assert!(
        out.stderr.contains("row 3 (第3行), column 住址"),
        "{}",
        &out.stderr[..out.stderr.len().min(2000)]
    );
    assert!(
        out.stderr.contains("row 5 (第5行), column 姓名"),
        "{}",
        &out.stderr[..out.stderr.len().min(2000)]
    );
    assert!(out.stderr.len() < 10_000, "the cell is not echoed");
    let ok = import(
        &db,
        &file,
        &["--staff", staff.to_str().unwrap(), "--skip-invalid"],
    )
    .ok();
    assert!(
        ok.stdout.contains("2 invalid row(s) skipped (2 error(s))"),
        "{ok:?}"
    );
    // UTF-8 with one row typed in GBK: that row, not the header, is the error.
    let text = r.persons.to_csv();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut bytes = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if i == 3 {
            bytes.extend_from_slice(&encoding_rs::GBK.encode(l).0);
        } else {
            bytes.extend_from_slice(l.as_bytes());
        }
    }
    let db = TestDb::sqlite();
    let file = db.path("mixed.csv");
    std::fs::write(&file, bytes).unwrap();
    let out = import(&db, &file, &["--staff", staff.to_str().unwrap()]).fails();
    assert!(out.stderr.contains("第4行不是UTF-8编码"), "{out:?}");
    assert!(!out.stderr.contains("no column"), "{out:?}");
}

#[test]
fn many_rows_without_staff_give_one_grouped_line_and_an_errors_workbook_to_fix() {
    const N: usize = 100_000;
    let db = TestDb::sqlite();
    let mut csv = String::from("编号,姓名,身份证号,出生日期,类别,职级,联系人\n");
    for i in 0..N {
        let birth = ymd(1940, 1, 1) + chrono::Duration::days((i % 3000) as i64);
        csv.push_str(&format!(
            "B{i:06},王{},{},{},退休,科级,S{:05}\n",
            i % 97,
            id_number("370102", birth, (i / 3000) as u32 * 2 + 101),
            birth,
            i % 50 + 1
        ));
    }
    let file = db.path("big.csv");
    std::fs::write(&file, &csv).unwrap();
    let book = db.path("errors.xlsx");
    let out = qinqing(&db)
        .arg("import")
        .arg(&file)
        .arg("--errors")
        .arg(&book)
        .run()
        .fails();
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(lines.len() <= 52, "at most 50 error lines: {}", lines.len());
    let grouped = lines
        .iter()
        .find(|l| l.contains("100000行"))
        .unwrap_or_else(|| panic!("{}", &out.stderr[..out.stderr.len().min(3000)]));
    assert!(grouped.contains("例如第2、3、4行"), "{grouped}");
    assert!(grouped.contains("没有「工作人员」表"), "{grouped}");
    // Every error is in the workbook; the bad rows are there to fix.
    let mut wb: Xlsx<_> = open_workbook(&book).unwrap();
    assert_eq!(wb.sheet_names(), ["待修改", "错误"]);
    let errors = wb.worksheet_range("错误").unwrap();
    assert_eq!(errors.height(), N + 1);
    let fix = wb.worksheet_range("待修改").unwrap();
    assert_eq!(fix.height(), N + 1);
    let header: Vec<String> = fix
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header.last().map(String::as_str), Some("错误说明"));
    let col = header.iter().position(|h| h == "联系人").unwrap();
    // The clerk fixes the highlighted 联系人 cells and imports the sheet.
    let mut fixed = rust_xlsxwriter::Workbook::new();
    let ws = fixed.add_worksheet().set_name("待修改").unwrap();
    for (r, row) in fix.rows().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let text = match cell {
                Data::String(s) if r > 0 && c == col => {
                    assert!(s.starts_with('S'));
                    "S002".to_string()
                }
                other => other.to_string(),
            };
            ws.write_string(r as u32, c as u16, text).unwrap();
        }
    }
    let fixed_path = db.path("fixed.xlsx");
    fixed.save(&fixed_path).unwrap();
    let staff = db.path("staff.csv");
    std::fs::write(&staff, Roster::synthetic(0).staff.to_csv()).unwrap();
    let ok = import(&db, &fixed_path, &["--staff", staff.to_str().unwrap()]).ok();
    assert!(ok.stdout.contains(&format!("{N} added")), "{ok:?}");
}

#[test]
fn a_missing_roster_file_fails_run_once_and_status_says_so() {
    let db = TestDb::sqlite();
    let config = db.path("q.toml");
    std::fs::write(
        &config,
        format!(
            "[roster]\npath = {:?}\n\n{}",
            db.path("nope.xlsx").display().to_string(),
            console(&db.path("out.jsonl"))
        ),
    )
    .unwrap();
    let out = qinqing(&db)
        .arg("--config")
        .arg(&config)
        .args(["run", "--once"])
        .run()
        .fails();
    assert!(out.stderr.contains("nope.xlsx"), "{out:?}");
    let st: Value = qinqing(&db)
        .args(["status", "--format", "json"])
        .run()
        .ok()
        .json();
    assert!(
        st["roster_errors"].to_string().contains("nope.xlsx"),
        "{st:#}"
    );
}

#[test]
fn a_closed_pipe_ends_quietly_and_the_sqlite_file_is_private() {
    let db = TestDb::sqlite();
    import(&db, &Roster::synthetic(12).save(&db, "roster.xlsx"), &[]).ok();
    let exe = env!("CARGO_BIN_EXE_qinqing");
    let script = format!(
        "{exe:?} --database {:?} preview --from 2026-01-01 --to 2026-12-31 | head -1 >/dev/null; echo \"${{PIPESTATUS[0]}}\"",
        db.url()
    );
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("QINQING_NOW", NOW)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "0", "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    use std::os::unix::fs::PermissionsExt;
    let path = db.url().trim_start_matches("sqlite://").to_string();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{path}");
}

#[test]
fn check_opens_roster_path_and_names_unassigned_persons_by_number_and_name() {
    let db = TestDb::sqlite();
    let mut r = Roster::synthetic(6);
    r.persons.set(2, "联系人", X::Empty);
    import(&db, &r.save(&db, "roster.xlsx"), &[]).ok();
    let config = db.path("q.toml");
    std::fs::write(
        &config,
        format!(
            "[roster]\npath = {:?}\n",
            db.path("gone.xlsx").display().to_string()
        ),
    )
    .unwrap();
    let out = qinqing(&db)
        .arg("--config")
        .arg(&config)
        .arg("check")
        .run()
        .fails();
    assert!(out.all().contains("gone.xlsx"), "{out:?}");
    assert!(!out.stdout.contains("check passed"), "{out:?}");
    // Without roster.path: the unassigned person is named by 编号 and 姓名.
    let report = check_json(&db);
    let names: Vec<String> = report["unassigned_persons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["T0003 张德明"], "{report:#}");
}
