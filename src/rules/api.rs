//! What a rule script sees: the `Date` and `Person` types, birthdays, documents,
//! and calendar helpers. Everything here is registered once on the engine.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use rhai::{Array, Dynamic, Engine, EvalAltResult, ImmutableString, Map, Position};

use crate::calendar::{self, LunarDate, WorkCalendar};
use crate::roster::{Category, Person, Rank, SelfCare, Sex};
use crate::store::Document;

/// Everything a rule needs to know about one person; shared, never copied per call.
#[derive(Debug)]
pub struct PersonData {
    /// Internal id (stable across ID-number corrections).
    pub internal_id: i64,
    /// 身份证号, or 编号 when there is none.
    pub key: String,
    pub person: Person,
    pub active: bool,
    /// The lunar birth date to celebrate, when the person keeps a lunar birthday.
    pub lunar_birth: Option<LunarDate>,
    /// Recorded events (kind, date), in date order.
    pub events: Vec<(String, NaiveDate)>,
    pub documents: Arc<Vec<Document>>,
    /// `p.documents` as scripts see it, built once per roster and shared.
    script_documents: Arc<Array>,
    /// `p.name` as a Rhai string: read for nearly every occasion title, so built once.
    script_name: ImmutableString,
}

/// The registered documents together with the maps scripts see (`p.documents`), built
/// once and shared by every person of a roster.
#[derive(Debug, Clone)]
pub struct SharedDocuments {
    list: Arc<Vec<Document>>,
    maps: Arc<Array>,
}

impl SharedDocuments {
    pub fn new(list: Arc<Vec<Document>>) -> SharedDocuments {
        let maps = list.iter().map(|d| Dynamic::from(doc_map(d))).collect();
        SharedDocuments {
            list,
            maps: Arc::new(maps),
        }
    }

    pub fn list(&self) -> &Arc<Vec<Document>> {
        &self.list
    }
}

impl PersonData {
    pub fn new(
        internal_id: i64,
        person: Person,
        active: bool,
        events: Vec<(String, NaiveDate)>,
        documents: Arc<Vec<Document>>,
    ) -> PersonData {
        PersonData::sharing(
            internal_id,
            person,
            active,
            events,
            &SharedDocuments::new(documents),
        )
    }

    /// As [`PersonData::new`], with documents prepared once for many persons.
    pub fn sharing(
        internal_id: i64,
        person: Person,
        active: bool,
        events: Vec<(String, NaiveDate)>,
        documents: &SharedDocuments,
    ) -> PersonData {
        let lunar_birth = if person.lunar_birthday {
            person
                .lunar_birth_date
                .or_else(|| calendar::to_lunar(person.birth_date))
        } else {
            None
        };
        PersonData {
            internal_id,
            key: person.key().to_string(),
            script_name: person.name.as_str().into(),
            person,
            active,
            lunar_birth,
            events,
            documents: documents.list.clone(),
            script_documents: documents.maps.clone(),
        }
    }

    /// Birthdays whose date falls in `year`: lunar ones when the person keeps a
    /// lunar birthday, else Gregorian.
    pub fn birthdays_in(&self, year: i32) -> Vec<calendar::Birthday> {
        match self.lunar_birth {
            Some(l) => calendar::lunar_birthdays_in(l, year),
            None => calendar::gregorian_birthdays_in(self.person.birth_date, year),
        }
    }
}

/// The person as the script sees it (`p` in `fn occasions(p, year)`).
#[derive(Debug, Clone)]
pub struct PersonView(pub Arc<PersonData>);

fn date_dyn(d: Option<NaiveDate>) -> Dynamic {
    d.map(Dynamic::from).unwrap_or(Dynamic::UNIT)
}

fn str_dyn(s: &Option<String>) -> Dynamic {
    match s {
        Some(s) if !s.is_empty() => Dynamic::from(ImmutableString::from(s.as_str())),
        _ => Dynamic::UNIT,
    }
}

/// Rhai strings for the words of a closed set (categories, ranks…), made once at
/// registration so a getter hands out a shared copy instead of allocating.
struct Words<T>(Vec<(T, ImmutableString)>);

impl<T: Copy + PartialEq> Words<T> {
    fn new(all: &[T], word: fn(T) -> &'static str) -> Arc<Words<T>> {
        Arc::new(Words(all.iter().map(|&v| (v, word(v).into())).collect()))
    }
    fn get(&self, v: T) -> ImmutableString {
        self.0
            .iter()
            .find(|(k, _)| *k == v)
            .map(|(_, s)| s.clone())
            .expect("every value has its word")
    }
}

fn err(msg: String) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(msg.into(), Position::NONE))
}

fn rank_arg(s: &str) -> Result<Rank, Box<EvalAltResult>> {
    Rank::parse(s).ok_or_else(|| {
        err(format!(
            "未知职级 unknown rank {s:?}: use 厅级, 副厅级, 县处级, 副处级, 科级 or 其他"
        ))
    })
}

fn doc_map(d: &Document) -> Map {
    let mut m = Map::new();
    m.insert("id".into(), Dynamic::from(d.id));
    m.insert("title".into(), Dynamic::from(d.title.clone()));
    m.insert("issued".into(), Dynamic::from(d.issued_on));
    m.insert("deadline".into(), Dynamic::from(d.deadline));
    let audience: Array = d
        .audience
        .iter()
        .map(|c| Dynamic::from(c.as_str().to_string()))
        .collect();
    m.insert("audience".into(), Dynamic::from(audience));
    m.insert(
        "min_rank".into(),
        d.min_rank
            .map(|r| Dynamic::from(r.as_str().to_string()))
            .unwrap_or(Dynamic::UNIT),
    );
    m
}

pub fn register(engine: &mut Engine, cal: Arc<WorkCalendar>) {
    register_date(engine);
    register_person(engine);

    engine.register_fn(
        "date",
        |y: i64, m: i64, d: i64| -> Result<NaiveDate, Box<EvalAltResult>> {
            NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32)
                .ok_or_else(|| err(format!("日期不存在 no such date {y}-{m}-{d}")))
        },
    );
    engine.register_fn("date", |s: &str| -> Result<NaiveDate, Box<EvalAltResult>> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| err(format!("不是日期 not a date like 2026-09-18: {s:?}")))
    });
    engine.register_fn(
        "festival",
        |name: &str, year: i64| -> Result<NaiveDate, Box<EvalAltResult>> {
            calendar::festival(name, year as i32).ok_or_else(|| {
                err(format!(
                    "未知节日 unknown festival {name:?} (known: {})",
                    calendar::FESTIVALS.join(", ")
                ))
            })
        },
    );
    let c = cal.clone();
    engine.register_fn("is_workday", move |d: NaiveDate| c.is_workday(d));
    let c = cal.clone();
    engine.register_fn("prev_workday", move |d: NaiveDate| c.prev_workday(d));
    let c = cal.clone();
    engine.register_fn("next_workday", move |d: NaiveDate| c.next_workday(d));
    let c = cal;
    engine.register_fn(
        "first_workday",
        move |y: i64, m: i64| -> Result<NaiveDate, Box<EvalAltResult>> {
            if !(1..=12).contains(&m) {
                return Err(err(format!("月份 month must be 1–12, got {m}")));
            }
            Ok(c.first_workday_of_month(y as i32, m as u32))
        },
    );
}

fn register_date(engine: &mut Engine) {
    engine.register_type_with_name::<NaiveDate>("Date");
    engine.register_fn("+", |d: NaiveDate, n: i64| d + chrono::Duration::days(n));
    engine.register_fn("+", |n: i64, d: NaiveDate| d + chrono::Duration::days(n));
    engine.register_fn("-", |d: NaiveDate, n: i64| d - chrono::Duration::days(n));
    engine.register_fn("-", |a: NaiveDate, b: NaiveDate| (a - b).num_days());
    engine.register_fn("==", |a: NaiveDate, b: NaiveDate| a == b);
    engine.register_fn("!=", |a: NaiveDate, b: NaiveDate| a != b);
    engine.register_fn("<", |a: NaiveDate, b: NaiveDate| a < b);
    engine.register_fn("<=", |a: NaiveDate, b: NaiveDate| a <= b);
    engine.register_fn(">", |a: NaiveDate, b: NaiveDate| a > b);
    engine.register_fn(">=", |a: NaiveDate, b: NaiveDate| a >= b);
    engine.register_get("year", |d: &mut NaiveDate| d.year() as i64);
    engine.register_get("month", |d: &mut NaiveDate| d.month() as i64);
    engine.register_get("day", |d: &mut NaiveDate| d.day() as i64);
    // 1 = Monday … 7 = Sunday
    engine.register_get("weekday", |d: &mut NaiveDate| {
        d.weekday().number_from_monday() as i64
    });
    engine.register_fn("to_string", |d: &mut NaiveDate| d.to_string());
    engine.register_fn("to_debug", |d: &mut NaiveDate| d.to_string());
}

fn register_person(engine: &mut Engine) {
    engine.register_type_with_name::<PersonView>("Person");
    engine.register_get("id", |p: &mut PersonView| {
        ImmutableString::from(p.0.key.as_str())
    });
    engine.register_get("name", |p: &mut PersonView| p.0.script_name.clone());
    let sexes = Words::new(&[Sex::Male, Sex::Female], Sex::as_str);
    let no_sex = ImmutableString::new();
    engine.register_get("sex", move |p: &mut PersonView| match p.0.person.sex {
        Some(s) => sexes.get(s),
        None => no_sex.clone(),
    });
    let categories = Words::new(&Category::ALL, Category::as_str);
    engine.register_get("category", move |p: &mut PersonView| {
        categories.get(p.0.person.category)
    });
    let ranks = Words::new(&Rank::ALL, Rank::as_str);
    engine.register_get("rank", move |p: &mut PersonView| ranks.get(p.0.person.rank));
    engine.register_fn(
        "rank_at_least",
        |p: &mut PersonView, r: &str| -> Result<bool, Box<EvalAltResult>> {
            Ok(p.0.person.rank >= rank_arg(r)?)
        },
    );
    engine.register_get("birth_date", |p: &mut PersonView| p.0.person.birth_date);
    engine.register_get("lunar", |p: &mut PersonView| p.0.person.lunar_birthday);
    engine.register_get("lives_alone", |p: &mut PersonView| p.0.person.lives_alone);
    engine.register_get("empty_nest", |p: &mut PersonView| p.0.person.empty_nest);
    engine.register_get("widowed", |p: &mut PersonView| p.0.person.widowed);
    engine.register_get("hardship", |p: &mut PersonView| p.0.person.hardship);
    let self_care = Words::new(
        &[SelfCare::Full, SelfCare::Partial, SelfCare::None],
        SelfCare::as_str,
    );
    engine.register_get("self_care", move |p: &mut PersonView| {
        self_care.get(p.0.person.self_care)
    });
    engine.register_get("hospitalised_since", |p: &mut PersonView| {
        date_dyn(p.0.person.hospitalised_since)
    });
    engine.register_get("deceased_on", |p: &mut PersonView| {
        date_dyn(p.0.person.deceased_on)
    });
    engine.register_get("community", |p: &mut PersonView| {
        str_dyn(&p.0.person.community)
    });
    engine.register_get("branch", |p: &mut PersonView| {
        str_dyn(&p.0.person.party_branch)
    });
    engine.register_get("party_member", |p: &mut PersonView| {
        p.0.person
            .party_branch
            .as_deref()
            .is_some_and(|b| !b.trim().is_empty())
    });
    engine.register_get("active", |p: &mut PersonView| p.0.active);
    engine.register_get("staff", |p: &mut PersonView| {
        p.0.person
            .staff
            .iter()
            .map(|s| Dynamic::from(s.clone()))
            .collect::<Array>()
    });
    engine.register_get("tags", |p: &mut PersonView| {
        p.0.person
            .tags
            .iter()
            .map(|s| Dynamic::from(s.clone()))
            .collect::<Array>()
    });
    engine.register_fn("has_tag", |p: &mut PersonView, t: &str| {
        p.0.person.tags.iter().any(|x| x == t)
    });
    engine.register_get("events", |p: &mut PersonView| {
        p.0.events
            .iter()
            .map(|(kind, date)| {
                let mut m = Map::new();
                m.insert("kind".into(), Dynamic::from(kind.clone()));
                m.insert("date".into(), Dynamic::from(*date));
                Dynamic::from(m)
            })
            .collect::<Array>()
    });
    engine.register_get("documents", |p: &mut PersonView| {
        p.0.script_documents.as_ref().clone()
    });
    engine.register_fn("age_on", |p: &mut PersonView, d: NaiveDate| {
        calendar::age_on(p.0.person.birth_date, d) as i64
    });
    engine.register_fn("xusui_on", |p: &mut PersonView, d: NaiveDate| {
        calendar::xusui_on(p.0.person.birth_date, d) as i64
    });
    engine.register_fn("birthdays_in", |p: &mut PersonView, year: i64| {
        p.0.birthdays_in(year as i32)
            .into_iter()
            .map(|b| {
                let mut m = Map::new();
                m.insert("date".into(), Dynamic::from(b.date));
                m.insert("age".into(), Dynamic::from(b.age as i64));
                Dynamic::from(m)
            })
            .collect::<Array>()
    });
    engine.register_fn("in_audience", |p: &mut PersonView, doc: Map| {
        // Read in place: the audience and min_rank are strings, never copied here.
        let cat = p.0.person.category.as_str();
        let in_cat = doc
            .get("audience")
            .and_then(|a| a.read_lock::<Array>())
            .is_some_and(|a| {
                a.iter().any(|c| {
                    c.read_lock::<ImmutableString>()
                        .is_some_and(|s| s.as_str() == cat)
                })
            });
        let rank_ok = match doc
            .get("min_rank")
            .and_then(|r| r.read_lock::<ImmutableString>())
        {
            Some(r) => Rank::parse(&r).is_some_and(|r| p.0.person.rank >= r),
            None => true,
        };
        in_cat && rank_ok
    });
}
