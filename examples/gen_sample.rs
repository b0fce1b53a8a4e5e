//! Writes the synthetic sample roster: `config/sample/roster.xlsx` (sheets 花名册 and
//! 工作人员), `config/sample/roster.csv` (persons, UTF-8) and `config/sample/staff.csv`.
//!
//! Every name, number and address is invented. ID numbers carry valid GB 11643 check
//! digits and the same birth date as 出生日期. Run with
//! `cargo run --example gen_sample`.

use std::fmt::Write as _;
use std::path::Path;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

/// How 出生日期 is typed in the workbook.
#[derive(Clone, Copy)]
enum Style {
    Dash,
    Slash,
    Chinese,
    Dotted,
    Compact,
    /// An Excel date cell (in the CSV: `1935-07-12`).
    Cell,
}

struct P {
    name: String,
    female: bool,
    birth: (i32, u32, u32),
    style: Style,
    lunar: &'static str,
    lunar_date: &'static str,
    category: &'static str,
    rank: &'static str,
    unit: &'static str,
    community: &'static str,
    branch: &'static str,
    health: &'static str,
    self_care: &'static str,
    alone: &'static str,
    empty_nest: &'static str,
    widowed: &'static str,
    hardship: &'static str,
    hospital: &'static str,
    deceased: Option<(i32, u32, u32)>,
    staff: &'static str,
    tags: &'static str,
}

impl P {
    fn new(name: &str, female: bool, birth: (i32, u32, u32), category: &'static str) -> P {
        P {
            name: name.to_string(),
            female,
            birth,
            style: Style::Dash,
            lunar: "",
            lunar_date: "",
            category,
            rank: "",
            unit: "",
            community: "",
            branch: "",
            health: "良好",
            self_care: "",
            alone: "",
            empty_nest: "",
            widowed: "",
            hardship: "",
            hospital: "",
            deceased: None,
            staff: "S002",
            tags: "",
        }
    }
}

const HEADER: [&str; 25] = [
    "编号",
    "姓名",
    "性别",
    "身份证号",
    "出生日期",
    "农历生日",
    "农历出生日期",
    "类别",
    "职级",
    "原单位",
    "联系电话",
    "家属电话",
    "住址",
    "社区",
    "党支部",
    "健康状况",
    "自理能力",
    "独居",
    "空巢",
    "丧偶",
    "困难",
    "住院日期",
    "去世日期",
    "联系人",
    "标签",
];

const STAFF_HEADER: [&str; 10] = [
    "工号",
    "姓名",
    "手机",
    "邮箱",
    "企业微信",
    "钉钉",
    "飞书",
    "上级",
    "角色",
    "提醒方式",
];

/// 工号, 姓名, 企业微信, 上级, 角色, 提醒方式
const STAFF: [(&str, &str, &str, &str, &str, &str); 5] = [
    ("S001", "柏青山", "", "", "局领导", "短信,邮件"),
    ("S002", "林晓禾", "", "S001", "联络员", "邮件"),
    ("S003", "季远帆", "jiyuanfan", "S001", "联络员", "企业微信"),
    ("S004", "钟语桐", "", "S001", "联络员", "短信、邮件"),
    (
        "S005",
        "楚思源",
        "chusiyuan",
        "S001",
        "联络员",
        "企业微信,短信",
    ),
];

fn check_char(first17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

fn id_number(i: usize, p: &P) -> String {
    const REGIONS: [&str; 4] = ["370102", "370103", "370104", "370105"];
    let (y, m, d) = p.birth;
    // The 17th digit is odd for men, even for women.
    let seq = 100 + 2 * i + usize::from(!p.female);
    let first17 = format!("{}{y:04}{m:02}{d:02}{seq:03}", REGIONS[i % 4]);
    let c = check_char(&first17);
    format!("{first17}{c}")
}

fn typed(style: Style, (y, m, d): (i32, u32, u32)) -> String {
    match style {
        Style::Dash | Style::Cell => format!("{y:04}-{m:02}-{d:02}"),
        Style::Slash => format!("{y}/{m}/{d}"),
        Style::Chinese => format!("{y}年{m}月{d}日"),
        Style::Dotted => format!("{y}.{m}.{d}"),
        Style::Compact => format!("{y:04}{m:02}{d:02}"),
    }
}

fn persons() -> Vec<P> {
    let mut v = Vec::new();
    let mut p = P::new("岳松年", false, (1926, 3, 18), "离休");
    p.rank = "厅级";
    p.style = Style::Cell;
    p.self_care = "不能自理";
    p.health = "心脏病";
    p.branch = "离休干部党支部";
    p.tags = "百岁";
    p.staff = "S001";
    v.push(p); // turns 100 in 2026

    let mut p = P::new("晏若梅", true, (1930, 8, 9), "离休");
    p.rank = "副厅级";
    p.lunar = "是";
    p.lunar_date = "1930-闰06-15";
    p.branch = "离休干部党支部";
    p.staff = "S002";
    v.push(p); // leap-month lunar birthday

    let mut p = P::new("闻仲达", false, (1936, 2, 29), "退休");
    p.rank = "县处级";
    p.style = Style::Chinese;
    p.staff = "S003";
    v.push(p); // 29 February, turns 90

    let mut p = P::new("商秋实", false, (1931, 11, 2), "离休");
    p.rank = "县处级";
    p.hospital = "2026-09-10";
    p.health = "肺炎住院";
    p.self_care = "半自理";
    p.staff = "S004";
    p.branch = "离休干部党支部";
    v.push(p); // in hospital

    let mut p = P::new("郁兰亭", true, (1928, 5, 20), "离休");
    p.rank = "副处级";
    p.deceased = Some((2026, 6, 6));
    p.staff = "S005";
    v.push(p); // deceased

    let mut p = P::new("蓟文澜", true, (1929, 12, 1), "离休");
    p.rank = "科级";
    p.alone = "是";
    p.widowed = "是";
    p.lunar = "是";
    p.style = Style::Slash;
    p.staff = "S002、S004";
    p.tags = "独居;重点关注";
    v.push(p); // lives alone, over 90, two 联系人

    let mut p = P::new("谷守拙", false, (1946, 7, 7), "退休");
    p.rank = "副处级";
    p.style = Style::Compact;
    p.branch = "第一党支部";
    p.staff = "S003";
    v.push(p); // turns 80

    let mut p = P::new("阮知秋", true, (1956, 9, 30), "退休");
    p.rank = "其他";
    p.style = Style::Dotted;
    p.staff = "S005";
    v.push(p); // turns 70

    let mut p = P::new("隗清源", false, (1936, 5, 18), "退休");
    p.rank = "厅级";
    p.branch = "第二党支部";
    p.staff = "S001,S003";
    v.push(p); // turns 90

    let mut p = P::new("欧阳春和", true, (1933, 1, 8), "遗属");
    p.style = Style::Cell;
    p.widowed = "√";
    p.hardship = "是";
    p.empty_nest = "是";
    p.staff = "S004";
    p.tags = "困难";
    v.push(p); // born in January, hardship, 遗属

    let mut p = P::new("邝明远", false, (1941, 1, 25), "退休");
    p.rank = "副厅级";
    p.lunar = "Y";
    p.branch = "第一党支部";
    p.staff = "S002";
    v.push(p); // January, keeps a lunar birthday

    let mut p = P::new("聂云舒", true, (1925, 10, 10), "遗属");
    p.alone = "是";
    p.self_care = "半自理";
    p.staff = "S005";
    v.push(p); // over 100

    // Ordinary rows, cycling through categories, ranks and typing styles.
    const SURNAMES: [&str; 12] = [
        "莫", "裴", "柯", "滕", "甄", "卜", "蔺", "韶", "居", "扶", "冉", "宓",
    ];
    const GIVEN: [&str; 12] = [
        "静川", "向晚", "立言", "怀瑾", "安澜", "景行", "若谷", "明湖", "砚秋", "泊舟", "鸣岐",
        "知遥",
    ];
    const RANKS: [&str; 7] = ["厅级", "副厅级", "县处级", "副处级", "科级", "其他", ""];
    const STYLES: [Style; 6] = [
        Style::Dash,
        Style::Slash,
        Style::Chinese,
        Style::Cell,
        Style::Dotted,
        Style::Compact,
    ];
    const UNITS: [&str; 5] = ["市财政局", "市教育局", "市卫健委", "市交通局", "市档案馆"];
    const COMMUNITIES: [&str; 4] = ["东湖社区", "西苑社区", "南山社区", "北辰社区"];
    const STAFF_CYCLE: [&str; 4] = ["S002", "S003", "S004", "S005"];
    let mut i = 0usize;
    while v.len() < 50 {
        let name = format!(
            "{}{}",
            SURNAMES[i % 12],
            GIVEN[(i * 5 + 3 + i / 12 * 7) % 12]
        );
        let female = i % 3 == 1;
        let (category, year) = match i % 6 {
            0 => ("离休", 1927 + (i % 5) as i32),
            5 => ("遗属", 1932 + (i % 7) as i32),
            _ => ("退休", 1938 + ((i * 7) % 24) as i32),
        };
        let birth = (year, 1 + (i * 5 % 12) as u32, 1 + (i * 11 % 28) as u32);
        let mut p = P::new(&name, female, birth, category);
        p.rank = if category == "遗属" {
            ""
        } else {
            RANKS[i % 7]
        };
        p.style = STYLES[i % 6];
        p.branch = if i.is_multiple_of(2) {
            "第一党支部"
        } else {
            ""
        };
        p.health = ["良好", "高血压", "糖尿病", "一般"][i % 4];
        p.self_care = ["", "自理", "半自理", ""][i % 4];
        p.empty_nest = if i % 5 == 2 { "是" } else { "否" };
        p.lunar = if i % 7 == 3 { "是" } else { "" };
        p.staff = STAFF_CYCLE[i % 4];
        p.unit = UNITS[i % 5];
        p.community = COMMUNITIES[i % 4];
        v.push(p);
        i += 1;
    }
    for (k, p) in v.iter_mut().enumerate() {
        if p.unit.is_empty() {
            p.unit = ["市委组织部", "市政府办公室", "市人民医院"][k % 3];
        }
        if p.community.is_empty() {
            p.community = ["东湖社区", "西苑社区"][k % 2];
        }
    }
    v
}

/// The cells of one person row, as text (dates in the row's typing style).
fn row_text(i: usize, p: &P) -> Vec<String> {
    let n = i + 1;
    vec![
        format!("LX{n:04}"),
        p.name.clone(),
        if p.female { "女" } else { "男" }.into(),
        id_number(i, p),
        typed(p.style, p.birth),
        p.lunar.into(),
        p.lunar_date.into(),
        p.category.into(),
        p.rank.into(),
        p.unit.into(),
        format!("139000000{n:02}"),
        format!("138000000{n:02}"),
        format!("示例路{}号{}单元", 10 + n, 1 + n % 3),
        p.community.into(),
        p.branch.into(),
        p.health.into(),
        p.self_care.into(),
        p.alone.into(),
        p.empty_nest.into(),
        p.widowed.into(),
        p.hardship.into(),
        p.hospital.into(),
        p.deceased
            .map(|d| typed(Style::Dash, d))
            .unwrap_or_default(),
        p.staff.into(),
        p.tags.into(),
    ]
}

fn staff_rows() -> Vec<Vec<String>> {
    STAFF
        .iter()
        .enumerate()
        .map(|(k, (no, name, wecom, sup, role, channels))| {
            vec![
                no.to_string(),
                name.to_string(),
                format!("139000000{:02}", 91 + k),
                format!("{}@bureau.example", no.to_lowercase()),
                wecom.to_string(),
                String::new(),
                String::new(),
                sup.to_string(),
                role.to_string(),
                channels.to_string(),
            ]
        })
        .collect()
}

fn write_text_row(ws: &mut Worksheet, row: u32, cells: &[String]) -> Result<(), XlsxError> {
    for (c, v) in cells.iter().enumerate() {
        if !v.is_empty() {
            ws.write_string(row, c as u16, v)?;
        }
    }
    Ok(())
}

fn excel_date((y, m, d): (i32, u32, u32)) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(y as u16, m as u8, d as u8)
}

fn write_xlsx(path: &Path, persons: &[P]) -> Result<(), XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let text = Format::new().set_num_format("@");

    let ws = wb.add_worksheet();
    ws.set_name("花名册")?;
    for (c, h) in HEADER.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    ws.set_column_format(3, &text)?; // 身份证号 as text, as a bureau should
    ws.set_column_width(3, 22)?;
    ws.set_column_width(4, 14)?;
    for (i, p) in persons.iter().enumerate() {
        let row = i as u32 + 1;
        let cells = row_text(i, p);
        write_text_row(ws, row, &cells)?;
        if let Style::Cell = p.style {
            ws.write_datetime_with_format(row, 4, excel_date(p.birth)?, &date)?;
        }
        if let Some(d) = p.deceased {
            ws.write_datetime_with_format(row, 22, excel_date(d)?, &date)?;
        }
    }

    let ws = wb.add_worksheet();
    ws.set_name("工作人员")?;
    for (c, h) in STAFF_HEADER.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (k, cells) in staff_rows().iter().enumerate() {
        write_text_row(ws, k as u32 + 1, cells)?;
    }
    wb.save(path)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_text(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = header.join(",");
    out.push('\n');
    for r in rows {
        let line: Vec<String> = r.iter().map(|c| csv_field(c)).collect();
        let _ = writeln!(out, "{}", line.join(","));
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/sample");
    std::fs::create_dir_all(&dir)?;
    let persons = persons();
    write_xlsx(&dir.join("roster.xlsx"), &persons)?;
    let rows: Vec<Vec<String>> = persons
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut r = row_text(i, p);
            if let Style::Cell = p.style {
                r[4] = typed(Style::Dash, p.birth);
            }
            r
        })
        .collect();
    std::fs::write(dir.join("roster.csv"), csv_text(&HEADER, &rows))?;
    std::fs::write(
        dir.join("staff.csv"),
        csv_text(&STAFF_HEADER, &staff_rows()),
    )?;
    println!(
        "wrote {} persons and {} staff to {}",
        persons.len(),
        STAFF.len(),
        dir.display()
    );
    Ok(())
}
