//! End-to-end parsing tests over CSV text and generated workbooks.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use super::values::id_check_char;
use super::*;
use crate::calendar::LunarDate;
use crate::roster::model::{Category, Rank, SelfCare, Sex};

/// A valid 18-digit ID for a region, birth date `yyyymmdd` and sequence.
fn id(region: &str, birth: &str, seq: &str) -> String {
    let first17 = format!("{region}{birth}{seq}");
    assert_eq!(first17.len(), 17);
    let c = id_check_char(first17.as_bytes());
    format!("{first17}{c}")
}

fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, dd).unwrap()
}

fn opts() -> ParseOptions {
    ParseOptions {
        known_staff: ["S001", "S002"].into_iter().map(String::from).collect(),
        ..Default::default()
    }
}

fn csv(text: &str) -> RosterFile {
    parse_csv_reader(text.as_bytes(), "roster.csv", &opts()).expect("file-level parse")
}

/// The error at (row, column), or a panic listing every error.
fn error_at<'a>(rf: &'a RosterFile, row: usize, column: &str) -> &'a RowError {
    rf.errors
        .iter()
        .find(|e| e.row == row && e.column == column)
        .unwrap_or_else(|| {
            panic!(
                "no error at row {row} column {column}; errors:\n{}",
                rf.errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })
}

fn rows_of(rf: &RosterFile) -> Vec<usize> {
    rf.persons.iter().map(|p| p.row).collect()
}

const HEADER: &str = "编号,姓名,性别,身份证号,出生日期,类别,职级,联系电话,联系人,农历生日,自理能力";

#[test]
fn good_row_all_fields() {
    let idn = id("370102", "19350712", "001");
    let text = format!(
        "编号,姓名,性别,身份证号,出生日期,农历生日,农历出生日期,类别,职级,原单位,联系电话,家属电话,住址,社区,党支部,健康状况,自理能力,独居,空巢,丧偶,困难,住院日期,去世日期,联系人,标签\n\
         A1,王  五,男,{idn},1935/7/12,是,1935-06-12,离休,厅级,市委办,139 0000 0001,0531-88880000,某路1号,某社区,第一支部,高血压,半自理,是,否,√,×,2026-09-10,,\"S001、S002\",重点;高龄\n"
    );
    let rf = csv(&text);
    assert!(rf.errors.is_empty(), "{:?}", rf.errors);
    assert_eq!(rf.persons.len(), 1);
    let p = &rf.persons[0];
    assert_eq!(p.row, 2);
    let p = &p.person;
    assert_eq!(p.number.as_deref(), Some("A1"));
    assert_eq!(p.name, "王五");
    assert_eq!(p.facts.sex, Some(Sex::Male));
    assert_eq!(p.id_number.as_deref(), Some(idn.as_str()));
    assert_eq!(p.facts.birth_date, d(1935, 7, 12));
    assert!(p.facts.lunar_birthday);
    assert_eq!(
        p.facts.lunar_birth_date,
        Some(LunarDate {
            year: 1935,
            month: 6,
            leap: false,
            day: 12
        })
    );
    assert_eq!(p.facts.category, Category::Lixiu);
    assert_eq!(p.facts.rank, Rank::Bureau);
    assert_eq!(p.former_unit.as_deref(), Some("市委办"));
    assert_eq!(p.phone.as_deref(), Some("13900000001"));
    assert_eq!(p.family_phone.as_deref(), Some("053188880000"));
    assert_eq!(p.party_branch.as_deref(), Some("第一支部"));
    assert_eq!(p.facts.self_care, SelfCare::Partial);
    assert!(p.facts.lives_alone && !p.facts.empty_nest && p.facts.widowed && !p.facts.hardship);
    assert_eq!(p.facts.hospitalised_since, Some(d(2026, 9, 10)));
    assert_eq!(p.facts.deceased_on, None);
    assert_eq!(p.staff, ["S001", "S002"]);
    assert_eq!(p.tags, ["重点", "高龄"]);
}

#[test]
fn every_bad_value_kind_is_reported_with_row_and_column() {
    let ok1 = id("370102", "19350712", "001");
    let mut bad_check = id("370102", "19350712", "002");
    let last = bad_check.pop().unwrap();
    bad_check.push(if last == '0' { '1' } else { '0' });
    let mismatch = id("370102", "19350713", "003");
    let ok2 = id("370102", "19400101", "004");
    let text = format!(
        "{HEADER}\n\
         1,甲,男,{ok1},1935-07-12,离休,厅级,13900000001,S001,否,\n\
         2,乙,男,,1935-7-x,离休,,,,,\n\
         3,丙,男,,1935-02-30,离休,,,,,\n\
         4,丁,男,{bad_check},1935-07-12,离休,,,,,\n\
         5,戊,男,{mismatch},1935-07-12,离休,,,,,\n\
         6,己,男,{ok1},1935-07-12,离休,,,,,\n\
         7,庚,男,{ok2},,退休,,,S099,,\n\
         8,辛,男,,1940-01-01,退休,,,,也许,\n\
         9,壬,男,,1940-01-01,干部,,,,,\n\
         10,癸,男,,1940-01-01,退休,部级,,,,\n\
         11,子,男,,1940-01-01,退休,,1390000000a,,,\n\
         12,丑,不详,,1940-01-01,退休,,,,,\n\
         13,寅,女,,1940-01-01,遗属,,,,,很好\n\
         1,卯,女,,1940-01-01,遗属,,,,,\n\
         15,,女,,,遗属,,,,,\n\
         ,辰,女,,1940-01-01,遗属,,,,,\n"
    );
    let rf = csv(&text);
    assert_eq!(rows_of(&rf), [2], "only the first row is clean");

    assert!(error_at(&rf, 3, "出生日期").reason.contains("无法识别"));
    let e = error_at(&rf, 4, "出生日期");
    assert_eq!(e.reason, "日期不存在");
    assert_eq!(e.value, "1935-02-30");
    let e = error_at(&rf, 5, "身份证号");
    assert!(e.reason.contains("校验位"), "{}", e.reason);
    assert!(e.reason.contains(&format!("应为 {last}")), "{}", e.reason);
    assert_eq!(e.value, crate::mask::id_number(&bad_check));
    assert!(error_at(&rf, 6, "身份证号").reason.contains("不一致"));
    let e = error_at(&rf, 7, "身份证号");
    assert!(e.reason.contains("第2行"), "{}", e.reason);
    assert_ne!(e.value, ok1, "ID is masked");
    let e = error_at(&rf, 8, "联系人");
    assert_eq!(
        e.reason,
        "联系人 S099 不在工作人员名单中;请先在工作人员表中添加该工号,或改正工号"
    );
    assert!(error_at(&rf, 9, "农历生日").reason.contains("是 或 否"));
    assert!(
        error_at(&rf, 10, "类别")
            .reason
            .contains("离休、退休、遗属")
    );
    assert!(error_at(&rf, 11, "职级").reason.contains("县处级"));
    let e = error_at(&rf, 12, "联系电话");
    assert_eq!(e.value, "139****000a");
    assert!(error_at(&rf, 13, "性别").reason.contains("男 或 女"));
    assert!(error_at(&rf, 14, "自理能力").reason.contains("半自理"));
    assert!(error_at(&rf, 15, "编号").reason.contains("第2行"));
    assert!(error_at(&rf, 16, "姓名").reason.contains("不能为空"));
    assert!(error_at(&rf, 16, "出生日期").reason.contains("身份证号"));
    assert!(error_at(&rf, 17, "身份证号").reason.contains("至少"));
    // Names never appear in errors.
    assert!(
        rf.errors
            .iter()
            .all(|e| !e.to_string().contains('乙') && !e.to_string().contains('丙'))
    );
}

#[test]
fn deceased_before_birth_and_bad_event_dates() {
    let text = "姓名,编号,类别,出生日期,住院日期,去世日期\n\
                甲,1,离休,1930-01-01,,1929-12-31\n\
                乙,2,离休,1930-01-01,2026-13-01,\n\
                丙,3,离休,1930-01-01,2026-09-10,2026-06-06\n";
    let rf = csv(text);
    assert!(error_at(&rf, 2, "去世日期").reason.contains("早于出生日期"));
    assert_eq!(error_at(&rf, 3, "住院日期").reason, "日期不存在");
    assert_eq!(rows_of(&rf), [4]);
    assert_eq!(rf.persons[0].person.facts.deceased_on, Some(d(2026, 6, 6)));
}

#[test]
fn display_format() {
    let e = RowError {
        file: "roster.xlsx".into(),
        sheet: Some("花名册".into()),
        row: 5,
        column: "身份证号".into(),
        value: "1***************2X".into(),
        reason: "身份证号校验位不对".into(),
    };
    assert_eq!(
        e.to_string(),
        "roster.xlsx, sheet 花名册, row 5 (第5行), column 身份证号, value \"1***************2X\": 身份证号校验位不对"
    );
    let e = RowError {
        file: "roster.csv".into(),
        sheet: None,
        value: String::new(),
        ..e
    };
    assert_eq!(
        e.to_string(),
        "roster.csv, row 5 (第5行), column 身份证号: 身份证号校验位不对"
    );
}

#[test]
fn gbk_csv() {
    let idn = id("370102", "19350712", "001");
    let text =
        format!("{HEADER}\r\n1,张三,男,{idn},1935年7月12日,离休,县处级,,\"S001,S002\",是,\r\n");
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    let rf = parse_csv_reader(&bytes[..], "roster.csv", &opts()).unwrap();
    assert!(rf.errors.is_empty(), "{:?}", rf.errors);
    let p = &rf.persons[0].person;
    assert_eq!(p.name, "张三");
    assert_eq!(p.facts.rank, Rank::Division);
    assert_eq!(p.staff, ["S001", "S002"]);
    assert!(p.facts.lunar_birthday);
}

#[test]
fn utf8_bom_csv() {
    let text = format!("\u{feff}{HEADER}\n1,张三,男,,1935.7.12,退休,,,,,\n");
    let rf = csv(&text);
    assert!(rf.errors.is_empty(), "{:?}", rf.errors);
    assert_eq!(rf.persons[0].person.facts.birth_date, d(1935, 7, 12));
    assert!(rf.warnings.is_empty(), "{:?}", rf.warnings);
}

#[test]
fn full_width_lowercase_x_and_empty_self_care() {
    // 11010519491231002X is GB 11643's own example.
    let text = "姓名,身份证号,类别,联系电话,联系人,自理能力\n\
                张三,１１０１０５１９４９１２３１００２ｘ,退休,１３９０００００００１,Ｓ００１，Ｓ００２,\n\
                李四,110105194912310001,退休,,,\n";
    let rf = csv(text);
    let p = &rf.persons[0].person;
    assert_eq!(p.id_number.as_deref(), Some("11010519491231002X"));
    assert_eq!(
        p.facts.birth_date,
        d(1949, 12, 31),
        "birth date taken from the ID"
    );
    assert_eq!(p.phone.as_deref(), Some("13900000001"));
    assert_eq!(p.staff, ["S001", "S002"]);
    assert_eq!(p.facts.self_care, SelfCare::Full);
    // Lowercase x in plain ASCII too.
    let rf2 = csv("姓名,身份证号,类别\n张三,11010519491231002x,退休\n");
    assert_eq!(
        rf2.persons[0].person.id_number.as_deref(),
        Some("11010519491231002X")
    );
    assert_eq!(rf.errors.len(), 1, "{:?}", rf.errors);
    assert_eq!(rf.errors[0].row, 3);
}

#[test]
fn header_order_english_aliases_and_unknown_column() {
    let text = "Category, NAME ,备注,Birth_Date,Number,Self_Care,Staff\n\
                retired?,x,,,,,\n\
                tuixiu,Li Si,随便写,1940-01-01,7,不能自理,S002\n";
    let rf = csv(text);
    assert_eq!(rf.warnings.len(), 1, "{:?}", rf.warnings);
    assert!(rf.warnings[0].contains("roster.csv"));
    assert!(rf.warnings[0].contains("备注"));
    assert!(rf.warnings[0].contains("C列"));
    assert!(error_at(&rf, 2, "类别").value.contains("retired?"));
    let p = &rf.persons[0].person;
    assert_eq!(p.name, "Li Si");
    assert_eq!(p.facts.category, Category::Tuixiu);
    assert_eq!(p.number.as_deref(), Some("7"));
    assert_eq!(p.facts.self_care, SelfCare::None);
    assert_eq!(p.staff, ["S002"]);
}

#[test]
fn missing_columns_are_file_errors() {
    let err = parse_csv_reader("姓名,编号\n张三,1\n".as_bytes(), "r.csv", &opts()).unwrap_err();
    assert!(matches!(&err, RosterError::MissingColumn { column, .. } if column == "类别"));
    assert!(err.to_string().contains("类别"), "{err}");
    let err = parse_csv_reader("姓名,类别\n张三,离休\n".as_bytes(), "r.csv", &opts()).unwrap_err();
    assert!(
        matches!(&err, RosterError::MissingColumn { column, .. } if column.contains("身份证号"))
    );
    let err = parse_csv_reader("\n\n".as_bytes(), "r.csv", &opts()).unwrap_err();
    assert!(matches!(err, RosterError::EmptySheet { .. }));
    // 出生日期 column may be absent when every row has an ID number.
    let rf = csv("姓名,编号,类别\n张三,1,离休\n");
    assert!(
        error_at(&rf, 2, "出生日期")
            .reason
            .contains("没有出生日期列")
    );
}

#[test]
fn csv_quotes_and_record_numbers() {
    let text = "姓名,编号,类别,出生日期,住址\n\
                \"张,三\",1,离休,1930-01-01,\"某路\n1号\"\n\
                \n\
                李四,2,离休,1930-02-30,\n";
    let rf = csv(text);
    assert_eq!(rf.persons[0].person.name, "张,三");
    assert_eq!(rf.persons[0].person.address.as_deref(), Some("某路\n1号"));
    // Record 3 is the blank line; 李四 is record 4.
    assert_eq!(error_at(&rf, 4, "出生日期").reason, "日期不存在");
}

// ---- staff ----

const STAFF_HEADER: &str = "工号,姓名,手机,邮箱,上级,角色,提醒方式";

fn staff_csv(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("staff.csv");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn staff_file_and_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let staff = staff_csv(
        dir.path(),
        &format!(
            "{STAFF_HEADER}\n\
             S010,甲,13900000010,a@bureau.example,,局领导,\"短信,邮件\"\n\
             S011,乙,13900000011,b@bureau.example,S010,科员,企业微信\n\
             S012,丙,,,S999,科员,\n\
             S011,丁,,,,科员,\n\
             S013,戊,,,S010,科员,飞鸽\n\
             S014,己,,no-at-sign,S012,科员,\n\
             S015,庚,12,,S001,科员,\n"
        ),
    );
    let opts = ParseOptions {
        staff_file: Some(staff),
        ..opts()
    };
    let text = "姓名,编号,类别,出生日期,联系人\n张三,1,离休,1930-01-01,S010、S012\n李四,2,离休,1930-01-01,S003\n";
    let rf = parse_csv_reader(text.as_bytes(), "roster.csv", &opts).unwrap();
    assert!(rf.staff_sheet_present);
    let staff_rows: Vec<_> = rf.staff.iter().map(|s| s.row).collect();
    assert_eq!(staff_rows, [2, 3]);
    let s = &rf.staff[0].staff;
    assert_eq!(s.channels, ["sms", "email"]);
    assert_eq!(s.addresses.mobile.as_deref(), Some("13900000010"));
    assert_eq!(rf.staff[1].staff.supervisor.as_deref(), Some("S010"));
    assert_eq!(rf.staff[1].staff.channels, ["wecom"]);
    let e = error_at(&rf, 4, "上级");
    assert!(e.reason.contains("S999"));
    assert_eq!(e.file, "staff.csv");
    assert!(error_at(&rf, 5, "工号").reason.contains("第3行"));
    assert!(error_at(&rf, 6, "提醒方式").reason.contains("飞鸽"));
    assert!(error_at(&rf, 7, "邮箱").reason.contains("邮箱"));
    assert_eq!(error_at(&rf, 8, "手机").value, "**");
    // 上级 S001 is in known_staff: no error on that column.
    assert!(!rf.errors.iter().any(|e| e.row == 8 && e.column == "上级"));
    // S012 had an error itself but is a staff number of this file, so 张三 is fine.
    assert_eq!(rows_of(&rf), [2]);
    assert_eq!(rf.persons[0].person.staff, ["S010", "S012"]);
    assert!(error_at(&rf, 3, "联系人").reason.contains("S003"));
}

// ---- Excel ----

fn date_fmt() -> Format {
    Format::new().set_num_format("yyyy-mm-dd")
}

#[test]
fn xlsx_dates_serials_numbers_and_offset_range() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("roster.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("其他").unwrap();
    ws.write_string(0, 0, "not the roster").unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("花名册").unwrap();
    // Used range starts at C3: header on Excel row 3.
    let header = [
        "姓名",
        "编号",
        "类别",
        "出生日期",
        "联系电话",
        "身份证号",
        "去世日期",
    ];
    for (i, h) in header.iter().enumerate() {
        ws.write_string(2, 2 + i as u16, *h).unwrap();
    }
    let fmt = date_fmt();
    // Row 4: Excel date cell.
    ws.write_string(3, 2, "甲").unwrap();
    ws.write_number(3, 3, 1).unwrap();
    ws.write_string(3, 4, "离休").unwrap();
    ws.write_datetime_with_format(3, 5, ExcelDateTime::from_ymd(1936, 2, 29).unwrap(), &fmt)
        .unwrap();
    ws.write_number(3, 6, 13900000001.0).unwrap();
    // Row 5: serial number without a date format.
    ws.write_string(4, 2, "乙").unwrap();
    ws.write_number(4, 3, 2).unwrap();
    ws.write_string(4, 4, "退休").unwrap();
    ws.write_number(4, 5, 11023).unwrap();
    ws.write_number(4, 8, 46179).unwrap(); // 2026-06-06
    // Row 6: yyyymmdd number.
    ws.write_string(5, 2, "丙").unwrap();
    ws.write_number(5, 3, 3).unwrap();
    ws.write_string(5, 4, "遗属").unwrap();
    ws.write_number(5, 5, 19350712).unwrap();
    // Row 7: text date.
    ws.write_string(6, 2, "丁").unwrap();
    ws.write_number(6, 3, 4).unwrap();
    ws.write_string(6, 4, "离休").unwrap();
    ws.write_string(6, 5, "1935年7月12日").unwrap();
    // Row 8: empty. Row 9: ID stored as a number; 19350230 impossible date number.
    ws.write_string(8, 2, "戊").unwrap();
    ws.write_number(8, 3, 5).unwrap();
    ws.write_string(8, 4, "离休").unwrap();
    ws.write_number(8, 5, 19350230).unwrap();
    ws.write_number(8, 7, 3.70102193801031e17).unwrap();
    wb.save(&path).unwrap();

    let rf = parse_path(&path, &opts()).unwrap();
    assert!(!rf.staff_sheet_present);
    assert_eq!(rows_of(&rf), [4, 5, 6, 7]);
    let b: Vec<_> = rf
        .persons
        .iter()
        .map(|p| p.person.facts.birth_date)
        .collect();
    assert_eq!(
        b,
        [
            d(1936, 2, 29),
            d(1930, 3, 6),
            d(1935, 7, 12),
            d(1935, 7, 12)
        ]
    );
    assert_eq!(rf.persons[0].person.phone.as_deref(), Some("13900000001"));
    assert_eq!(rf.persons[0].person.number.as_deref(), Some("1"));
    assert_eq!(rf.persons[1].person.facts.deceased_on, Some(d(2026, 6, 6)));
    let e = error_at(&rf, 9, "身份证号");
    assert_eq!(e.reason, values::ID_AS_NUMBER);
    assert_eq!(e.sheet.as_deref(), Some("花名册"));
    assert_eq!(error_at(&rf, 9, "出生日期").reason, "日期不存在");
    assert!(
        e.to_string()
            .starts_with("roster.xlsx, sheet 花名册, row 9 (第9行), column 身份证号, value \"")
    );
}

#[test]
fn xlsx_staff_sheet_sheet_option_and_no_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("book.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("工作人员").unwrap();
    for (i, h) in ["工号", "姓名", "上级", "提醒方式"].iter().enumerate() {
        ws.write_string(0, i as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "S100").unwrap();
    ws.write_string(1, 1, "甲").unwrap();
    ws.write_string(1, 3, "邮件、短信").unwrap();
    ws.write_string(2, 0, "S101").unwrap();
    ws.write_string(2, 1, "乙").unwrap();
    ws.write_string(2, 2, "S999").unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("2026年").unwrap();
    for (i, h) in ["姓名", "身份证号", "类别", "联系人"].iter().enumerate() {
        ws.write_string(0, i as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "丙").unwrap();
    ws.write_string(1, 1, id("370102", "19300101", "011"))
        .unwrap();
    ws.write_string(1, 2, "离休").unwrap();
    ws.write_string(1, 3, "S100 S101").unwrap();
    wb.save(&path).unwrap();

    // No 花名册: the first sheet that is not 工作人员.
    let rf = parse_path(&path, &ParseOptions::default()).unwrap();
    assert!(rf.staff_sheet_present);
    assert_eq!(rf.staff.len(), 1);
    assert_eq!(rf.staff[0].staff.channels, ["email", "sms"]);
    let e = error_at(&rf, 3, "上级");
    assert_eq!(e.sheet.as_deref(), Some("工作人员"));
    assert_eq!(rf.persons.len(), 1);
    assert_eq!(rf.persons[0].person.staff, ["S100", "S101"]);

    let named = ParseOptions {
        sheet: Some("2026年".into()),
        ..Default::default()
    };
    assert_eq!(parse_path(&path, &named).unwrap().persons.len(), 1);
    let wrong = ParseOptions {
        sheet: Some("2025年".into()),
        ..Default::default()
    };
    match parse_path(&path, &wrong).unwrap_err() {
        RosterError::NoSheet {
            wanted, available, ..
        } => {
            assert_eq!(wanted, "2025年");
            assert_eq!(available, ["工作人员", "2026年"]);
        }
        e => panic!("{e}"),
    }
    let missing = dir.path().join("nope.xlsx");
    assert!(matches!(
        parse_path(&missing, &ParseOptions::default()),
        Err(RosterError::Io { .. })
    ));
    let garbage = dir.path().join("bad.xlsx");
    std::fs::write(&garbage, "not a workbook").unwrap();
    assert!(matches!(
        parse_path(&garbage, &ParseOptions::default()),
        Err(RosterError::Excel { .. })
    ));
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn assert_clean(rf: &RosterFile) {
    assert!(
        rf.errors.is_empty(),
        "{}",
        rf.errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn public_fixture_roster() {
    let rf = parse_path(
        &fixture("tests/fixtures/roster.xlsx"),
        &ParseOptions::default(),
    )
    .unwrap();
    assert_clean(&rf);
    assert_eq!(rf.persons.len(), 44);
    assert_eq!(rf.staff.len(), 12);
    assert!(rf.staff_sheet_present);
}

#[test]
fn sample_roster_files() {
    let rf = parse_path(
        &fixture("config/sample/roster.xlsx"),
        &ParseOptions::default(),
    )
    .unwrap();
    assert_clean(&rf);
    assert!(rf.warnings.is_empty(), "{:?}", rf.warnings);
    assert_eq!(rf.staff.len(), 5);
    assert!(rf.persons.len() >= 45);
    let categories: HashSet<_> = rf.persons.iter().map(|p| p.person.facts.category).collect();
    assert_eq!(categories.len(), 3);
    let ranks: HashSet<_> = rf.persons.iter().map(|p| p.person.facts.rank).collect();
    assert_eq!(ranks.len(), Rank::ALL.len());

    let csv_opts = ParseOptions {
        staff_file: Some(fixture("config/sample/staff.csv")),
        ..Default::default()
    };
    let rf_csv = parse_path(&fixture("config/sample/roster.csv"), &csv_opts).unwrap();
    assert_clean(&rf_csv);
    assert!(rf_csv.warnings.is_empty(), "{:?}", rf_csv.warnings);
    assert_eq!(rf_csv.staff.len(), 5);
    let a: Vec<_> = rf.persons.iter().map(|p| &p.person).collect();
    let b: Vec<_> = rf_csv.persons.iter().map(|p| &p.person).collect();
    assert_eq!(a, b, "xlsx and csv samples hold the same persons");
}

#[test]
fn hundred_thousand_rows_parse_quickly() {
    let mut text = String::with_capacity(12_000_000);
    text.push_str(
        "编号,姓名,性别,身份证号,出生日期,类别,职级,联系电话,联系人,农历生日,自理能力,住址,独居\n",
    );
    for i in 0..100_000u32 {
        let birth = format!("19{:02}{:02}{:02}", 20 + i % 40, 1 + i % 12, 1 + i % 28);
        // Region and sequence together make every ID unique.
        let idn = id(
            &format!("{:06}", 110000 + i / 1000),
            &birth,
            &format!("{:03}", i % 1000),
        );
        text.push_str(&format!(
            "N{i},姓名{i},男,{idn},{}-{}-{},退休,科级,1390000{:04},S001、S002,否,,某路{i}号,否\n",
            &birth[..4],
            &birth[4..6],
            &birth[6..],
            i % 10000
        ));
    }
    // Speed is measured by `cargo bench --bench import`, not here.
    let rf = csv(&text);
    assert_clean(&rf);
    assert_eq!(rf.persons.len(), 100_000);
}

#[test]
fn title_row_above_header_and_marked_headers() {
    let text = "某市老干部局离退休干部花名册(2026年1月),,,\n\
                ,,,\n\
                *姓名,编号,类别（必填）,出生日期(年-月-日)\n\
                张三,1,离休人员,1930-01-01\n";
    let rf = csv(text);
    assert_clean(&rf);
    assert_eq!(rows_of(&rf), [4]);
    assert_eq!(rf.persons[0].person.facts.category, Category::Lixiu);
    assert!(rf.warnings.is_empty(), "{:?}", rf.warnings);
}

#[test]
fn lunar_birth_date_must_exist_and_agree_with_the_birth_date() {
    let rf = csv("编号,姓名,出生日期,类别,农历生日,农历出生日期\n\
         A1,甲,1930-08-09,离休,是,1930-闰06-15\n\
         A2,乙,1930-08-10,离休,是,1930-闰06-15\n\
         A3,丙,1931-08-10,离休,是,1931-闰06-15\n");
    assert_eq!(rows_of(&rf), vec![2], "only the agreeing row is kept");
    assert!(error_at(&rf, 3, "农历出生日期").reason.contains("不一致"));
    assert!(error_at(&rf, 4, "农历出生日期").reason.contains("不存在"));
}
