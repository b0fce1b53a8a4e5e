//! The persons sheet (花名册): header check and one row → [`Person`], collecting every
//! bad cell of every row.

use std::collections::HashMap;

use crate::roster::model::{Category, Person, Rank, SelfCare, Sex};

use super::columns::{P, person_header};
use super::values::{self, Cell};
use super::{PersonRow, Report, RosterError, RosterFile, Sheet};

fn allowed<T: Copy>(all: &[T], name: impl Fn(T) -> &'static str) -> String {
    all.iter().map(|v| name(*v)).collect::<Vec<_>>().join("、")
}

/// Removes the spaces people put inside two-character names to align them
/// (`王  五` → `王五`); other names keep their inner spaces.
fn clean_name(s: &str) -> String {
    let cjk_only = s
        .chars()
        .all(|c| c.is_whitespace() || c == '·' || ('\u{3400}'..='\u{9fff}').contains(&c));
    if cjk_only {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    } else {
        s.to_string()
    }
}

/// `男性` → 男; other values as `Sex::parse`.
fn parse_sex(s: &str) -> Option<Sex> {
    Sex::parse(s).or_else(|| Sex::parse(s.strip_suffix('性')?))
}

/// `离休人员`, `退休职工` → as `Category::parse` without the suffix.
fn parse_category(s: &str) -> Option<Category> {
    Category::parse(s).or_else(|| {
        let base = ["人员", "干部", "职工"]
            .iter()
            .find_map(|suffix| s.strip_suffix(suffix))?;
        Category::parse(base)
    })
}

/// `Rank::parse` plus the county-level names bureaus also use.
fn parse_rank(s: &str) -> Option<Rank> {
    Rank::parse(s).or(match s {
        "正县级" | "县级" | "正县处级" | "县处" => Some(Rank::Division),
        "副县级" | "副县处级" | "副处" => Some(Rank::DeputyDivision),
        "正科" | "副科" | "科" => Some(Rank::Section),
        "正厅" | "厅" => Some(Rank::Bureau),
        "副厅" => Some(Rank::DeputyBureau),
        _ => None,
    })
}

fn opt_text(cell: Cell) -> Option<String> {
    let t = cell.text();
    (!t.is_empty()).then(|| t.into_owned())
}

/// The longest cell a roster may hold, in characters; 姓名 is shorter still.
pub(crate) const MAX_CELL_CHARS: usize = 1000;
pub(crate) const MAX_NAME_CHARS: usize = 50;

pub(crate) fn parse(
    sheet: &Sheet,
    known_staff: &dyn Fn(&str) -> bool,
    out: &mut RosterFile,
) -> Result<(), RosterError> {
    let (header_row, rows) =
        sheet.split_header(|cells| person_header(cells).index.iter().flatten().count())?;
    let h = person_header(&header_row.1);
    for required in [P::Name, P::Category] {
        if !h.has(required as usize) {
            return Err(sheet.missing(required.label()));
        }
    }
    if !h.has(P::IdNumber as usize) && !h.has(P::Number as usize) {
        return Err(sheet.missing("身份证号 或 编号"));
    }
    sheet.header_warnings(header_row.0, &h.ignored, &mut out.warnings);
    let has_birth_col = h.has(P::BirthDate as usize);

    let mut report = Report {
        file: sheet.file,
        sheet: sheet.sheet,
        errors: &mut out.errors,
    };
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    let mut seen_numbers: HashMap<String, usize> = HashMap::new();

    for (row, cells) in rows {
        let row = *row;
        let get = |p: P| -> Cell {
            h.index[p as usize]
                .and_then(|i| cells.get(i))
                .copied()
                .unwrap_or(Cell::Empty)
        };
        let before = report.errors.len();
        // Cells no roster needs this long (a pasted document, a runaway formula).
        let mut too_long = false;
        for p in P::ALL {
            let limit = if p == P::Name {
                MAX_NAME_CHARS
            } else {
                MAX_CELL_CHARS
            };
            let n = get(p).text().chars().count();
            if n > limit {
                too_long = true;
                report.push(
                    row,
                    p.label(),
                    "",
                    format!(
                        "内容有{n}个字,超过上限{limit}个字;请检查这一格是否粘贴错了 \
                         (cell longer than {limit} characters)"
                    ),
                );
            }
        }
        if too_long {
            continue;
        }

        let number = opt_text(get(P::Number));
        if let Some(n) = &number {
            if let Some(first) = seen_numbers.get(n) {
                report.push(
                    row,
                    P::Number.label(),
                    n.clone(),
                    format!("编号与第{first}行重复"),
                );
            } else {
                seen_numbers.insert(n.clone(), row);
            }
        }

        let name = clean_name(&get(P::Name).text());
        if name.is_empty() {
            report.push(row, P::Name.label(), "", "姓名不能为空");
        }

        let sex = match get(P::Sex).text().as_ref() {
            "" => None,
            s => match parse_sex(s) {
                Some(sex) => Some(sex),
                None => {
                    report.push(row, P::Sex.label(), s, "性别只能填 男 或 女(也可不填)");
                    None
                }
            },
        };

        let id = match values::parse_id(&get(P::IdNumber)) {
            Ok(id) => id,
            Err((shown, reason)) => {
                report.push(row, P::IdNumber.label(), shown, reason);
                None
            }
        };
        let id_cell_filled = !get(P::IdNumber).is_blank();
        if let Some(id) = &id {
            if let Some(first) = seen_ids.get(&id.value) {
                report.push(
                    row,
                    P::IdNumber.label(),
                    crate::mask::id_number(&id.value),
                    format!("身份证号与第{first}行重复"),
                );
            } else {
                seen_ids.insert(id.value.clone(), row);
            }
        }
        if id.is_none() && !id_cell_filled && number.is_none() {
            report.push(row, P::IdNumber.label(), "", "身份证号和编号至少要填一个");
        }

        let birth_cell = get(P::BirthDate);
        let birth_given = match values::parse_date(&birth_cell) {
            Ok(d) => d,
            Err(reason) => {
                report.push(row, P::BirthDate.label(), birth_cell.text(), reason);
                None
            }
        };
        let birth = match (birth_given, &id) {
            (Some(b), Some(id)) if b != id.birth => {
                report.push(
                    row,
                    P::IdNumber.label(),
                    crate::mask::id_number(&id.value),
                    format!(
                        "身份证号中的出生日期是 {},与出生日期列的 {b} 不一致;请核对哪一个写错了",
                        id.birth
                    ),
                );
                Some(b)
            }
            (Some(b), _) => Some(b),
            (None, Some(id)) => Some(id.birth),
            (None, None) => {
                if birth_cell.is_blank() && !id_cell_filled {
                    let reason = if has_birth_col {
                        "出生日期为空,又没有身份证号可以推算出生日期"
                    } else {
                        "表中没有出生日期列,本行又没有身份证号,无法得知出生日期"
                    };
                    report.push(row, P::BirthDate.label(), "", reason);
                }
                None
            }
        };

        let mut yes_no = |p: P| -> bool {
            let cell = get(p);
            values::parse_yes_no(&cell).unwrap_or_else(|reason| {
                report.push(row, p.label(), cell.text(), reason);
                false
            })
        };
        let lunar_birthday = yes_no(P::LunarBirthday);
        let lives_alone = yes_no(P::LivesAlone);
        let empty_nest = yes_no(P::EmptyNest);
        let widowed = yes_no(P::Widowed);
        let hardship = yes_no(P::Hardship);

        let lunar_cell = get(P::LunarBirthDate);
        let lunar_birth_date = values::parse_lunar(&lunar_cell).unwrap_or_else(|reason| {
            report.push(row, P::LunarBirthDate.label(), lunar_cell.text(), reason);
            None
        });
        // A given lunar birth date must exist and agree with 出生日期.
        if let Some(l) = lunar_birth_date {
            let shown = l.to_string();
            if crate::calendar::from_lunar(l).is_none() {
                report.push(
                    row,
                    P::LunarBirthDate.label(),
                    lunar_cell.text(),
                    format!("农历{shown}不存在(该年没有这个月或这一天)"),
                );
            } else if let Some(b) = birth
                && crate::calendar::to_lunar(b) != Some(l)
            {
                let actual = crate::calendar::to_lunar(b)
                    .map(|x| x.to_string())
                    .unwrap_or_else(|| "超出农历表范围".into());
                report.push(
                    row,
                    P::LunarBirthDate.label(),
                    lunar_cell.text(),
                    format!(
                        "农历出生日期{shown}与出生日期{b}(农历{actual})不一致;请核对哪一个写错了"
                    ),
                );
            }
        }

        let category = match get(P::Category).text().as_ref() {
            "" => {
                report.push(
                    row,
                    P::Category.label(),
                    "",
                    format!(
                        "类别不能为空,应为 {} 之一",
                        allowed(&Category::ALL, Category::as_str)
                    ),
                );
                None
            }
            s => parse_category(s).or_else(|| {
                report.push(
                    row,
                    P::Category.label(),
                    s,
                    format!(
                        "类别无法识别,应为 {} 之一",
                        allowed(&Category::ALL, Category::as_str)
                    ),
                );
                None
            }),
        };

        let rank_text = get(P::Rank).text();
        let rank = parse_rank(&rank_text).unwrap_or_else(|| {
            report.push(
                row,
                P::Rank.label(),
                rank_text.as_ref(),
                format!(
                    "职级无法识别,应为 {} 之一(不填即为其他)",
                    allowed(&Rank::ALL, Rank::as_str)
                ),
            );
            Rank::Other
        });

        let care_text = get(P::SelfCare).text();
        let self_care = SelfCare::parse(&care_text).unwrap_or_else(|| {
            report.push(
                row,
                P::SelfCare.label(),
                care_text.as_ref(),
                "自理能力应为 自理、半自理 或 不能自理(不填即为自理)",
            );
            SelfCare::Full
        });

        let mut phone = |p: P| -> Option<String> {
            values::parse_phone(&get(p)).unwrap_or_else(|(shown, reason)| {
                report.push(row, p.label(), shown, reason);
                None
            })
        };
        let phone_v = phone(P::Phone);
        let family_phone = phone(P::FamilyPhone);

        let mut date = |p: P| {
            let cell = get(p);
            values::parse_date(&cell).unwrap_or_else(|reason| {
                report.push(row, p.label(), cell.text(), reason);
                None
            })
        };
        let hospitalised_since = date(P::HospitalisedSince);
        let deceased_on = date(P::DeceasedOn);
        if let (Some(dead), Some(b)) = (deceased_on, birth)
            && dead < b
        {
            report.push(
                row,
                P::DeceasedOn.label(),
                dead.to_string(),
                format!("去世日期早于出生日期 {b}"),
            );
        }

        let staff_text = get(P::Staff).text();
        let mut staff: Vec<String> = Vec::new();
        for s in values::split_list(&staff_text) {
            if !known_staff(s) {
                report.push(
                    row,
                    P::Staff.label(),
                    s,
                    format!(
                        "联系人 {s} 不在工作人员名单中;请先在工作人员表中添加该工号,或改正工号"
                    ),
                );
            } else if !staff.iter().any(|x| x == s) {
                staff.push(s.to_string());
            }
        }
        let tags_text = get(P::Tags).text();
        let mut tags: Vec<String> = Vec::new();
        for t in values::split_list(&tags_text) {
            if !tags.iter().any(|x| x == t) {
                tags.push(t.to_string());
            }
        }

        if report.errors.len() > before {
            continue;
        }
        let (Some(birth_date), Some(category)) = (birth, category) else {
            continue;
        };
        out_push(
            &mut out.persons,
            row,
            Person {
                number,
                name,
                facts: crate::roster::Facts {
                    sex,
                    birth_date,
                    lunar_birthday,
                    lunar_birth_date,
                    category,
                    rank,
                    self_care,
                    lives_alone,
                    empty_nest,
                    widowed,
                    hardship,
                    hospitalised_since,
                    deceased_on,
                },
                id_number: id.map(|i| i.value),
                former_unit: opt_text(get(P::FormerUnit)),
                phone: phone_v,
                family_phone,
                address: opt_text(get(P::Address)),
                community: opt_text(get(P::Community)),
                party_branch: opt_text(get(P::PartyBranch)),
                health: opt_text(get(P::Health)),
                staff,
                tags,
            },
        );
    }
    Ok(())
}

fn out_push(persons: &mut Vec<PersonRow>, row: usize, person: Person) {
    persons.push(PersonRow { row, person });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_enum_words() {
        assert_eq!(parse_sex("男性"), Some(Sex::Male));
        assert_eq!(parse_sex("女"), Some(Sex::Female));
        assert_eq!(parse_sex("性"), None);
        assert_eq!(parse_category("离休人员"), Some(Category::Lixiu));
        assert_eq!(parse_category("退休职工"), Some(Category::Tuixiu));
        assert_eq!(parse_category("人员"), None);
        assert_eq!(parse_rank("副县级"), Some(Rank::DeputyDivision));
        assert_eq!(parse_rank("正县级"), Some(Rank::Division));
        assert_eq!(parse_rank(""), Some(Rank::Other));
        assert_eq!(parse_rank("部级"), None);
        assert_eq!(clean_name("王  五"), "王五");
        assert_eq!(clean_name("Li Si"), "Li Si");
        assert_eq!(clean_name("阿依古丽·买买提"), "阿依古丽·买买提");
    }
}
