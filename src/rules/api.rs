//! What a rule script sees: the `Date` and `Person` types, birthdays, documents,
//! and calendar helpers. Everything here is registered once on the engine.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use rhai::{Array, Dynamic, Engine, EvalAltResult, ImmutableString, Map, Position};

use crate::calendar::{self, LunarDate, WorkCalendar};
use crate::roster::Document;
use crate::roster::{Category, Facts, Person, Rank, SelfCare, Sex};

/// What rules and stages need of a person, and no more: the contact details (phones,
/// address, health notes…) stay in the store. Words shared by many persons
/// (community, branch, staff numbers, tags) are interned per roster.
#[derive(Debug, Clone)]
pub struct PlanPerson {
    pub name: ImmutableString,
    pub facts: Facts,
    pub community: Option<ImmutableString>,
    pub party_branch: Option<ImmutableString>,
    /// 联系人: staff numbers (工号), in roster order
    pub staff: Box<[ImmutableString]>,
    pub tags: Box<[ImmutableString]>,
}

/// Shares one copy of each repeated word (a community, a staff number…).
#[derive(Default)]
pub struct Interner(std::collections::HashMap<Box<str>, ImmutableString>);

impl Interner {
    pub fn get(&mut self, s: &str) -> ImmutableString {
        if let Some(v) = self.0.get(s) {
            return v.clone();
        }
        let v = ImmutableString::from(s);
        self.0.insert(s.into(), v.clone());
        v
    }

    fn opt(&mut self, s: Option<String>) -> Option<ImmutableString> {
        s.filter(|s| !s.is_empty()).map(|s| self.get(&s))
    }

    fn list(&mut self, v: Vec<String>) -> Box<[ImmutableString]> {
        v.iter().map(|s| self.get(s)).collect()
    }
}

impl PlanPerson {
    /// Keeps what planning needs of `p`; returns it with the person's key (身份证号,
    /// or 编号 when there is none).
    pub fn from_person(p: Person, words: &mut Interner) -> (Box<str>, PlanPerson) {
        let key: Box<str> = p.key().into();
        let plan = PlanPerson {
            name: p.name.as_str().into(),
            facts: p.facts,
            community: words.opt(p.community),
            party_branch: words.opt(p.party_branch),
            staff: words.list(p.staff),
            tags: words.list(p.tags),
        };
        (key, plan)
    }
}

/// Everything a rule needs to know about one person; shared, never copied per call.
#[derive(Debug)]
pub struct PersonData {
    /// Internal id (stable across ID-number corrections).
    pub internal_id: i64,
    /// 身份证号, or 编号 when there is none.
    pub key: Box<str>,
    pub person: PlanPerson,
    pub active: bool,
    /// The lunar birth date to celebrate, when the person keeps a lunar birthday.
    pub lunar_birth: Option<LunarDate>,
    /// Recorded events (kind, date), in date order.
    pub events: Box<[(ImmutableString, NaiveDate)]>,
    pub documents: Arc<Vec<Document>>,
    /// `p.documents` as scripts see it, built once per roster and shared.
    script_documents: Arc<Array>,
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
        PersonData::interning(
            internal_id,
            person,
            active,
            events,
            documents,
            &mut Interner::default(),
        )
    }

    /// As [`PersonData::sharing`], sharing repeated words through `words`.
    pub fn interning(
        internal_id: i64,
        person: Person,
        active: bool,
        events: Vec<(String, NaiveDate)>,
        documents: &SharedDocuments,
        words: &mut Interner,
    ) -> PersonData {
        let (key, person) = PlanPerson::from_person(person, words);
        let lunar_birth = if person.facts.lunar_birthday {
            person
                .facts
                .lunar_birth_date
                .or_else(|| calendar::to_lunar(person.facts.birth_date))
        } else {
            None
        };
        PersonData {
            internal_id,
            key,
            person,
            active,
            lunar_birth,
            events: events
                .into_iter()
                .map(|(k, d)| (words.get(&k), d))
                .collect(),
            documents: documents.list.clone(),
            script_documents: documents.maps.clone(),
        }
    }

    /// Birthdays whose date falls in `year`: lunar ones when the person keeps a
    /// lunar birthday, else Gregorian.
    pub fn birthdays_in(&self, year: i32) -> Vec<calendar::Birthday> {
        match self.lunar_birth {
            Some(l) => calendar::lunar_birthdays_in(l, year),
            None => calendar::gregorian_birthdays_in(self.person.facts.birth_date, year),
        }
    }
}

/// The person as the script sees it (`p` in `fn occasions(p, year)`).
#[derive(Debug, Clone)]
pub struct PersonView(pub Arc<PersonData>);

/// One thing a script asked about the person (`p.category`, `p.age_on(d)`…), with
/// its arguments. Every person getter and method goes through [`read`], so a script's
/// result depends on the person only through the reads it made: the engine records
/// them (see [`traced`]) and reuses the result for any person whose reads give the
/// same values (`rules::Memo`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Read {
    Id,
    Name,
    Sex,
    Category,
    Rank,
    RankAtLeast(Rank),
    BirthDate,
    Lunar,
    LivesAlone,
    EmptyNest,
    Widowed,
    Hardship,
    SelfCare,
    HospitalisedSince,
    DeceasedOn,
    Community,
    Branch,
    PartyMember,
    Active,
    Staff,
    Tags,
    HasTag(ImmutableString),
    Events,
    AgeOn(NaiveDate),
    XusuiOn(NaiveDate),
    BirthdaysIn(i64),
    /// `in_audience(doc)`: the document's audience categories and minimum rank.
    InAudience(Vec<ImmutableString>, Option<ImmutableString>),
}

/// The answer to a [`Read`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Val {
    Unit,
    Bool(bool),
    Int(i64),
    Date(NaiveDate),
    Str(ImmutableString),
    List(Vec<Val>),
}

/// The reads of one evaluation, in order.
pub type Trace = Vec<(Read, Val)>;

thread_local! {
    static TRACE: std::cell::RefCell<Option<Trace>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` (one script call, on this thread) recording every read of the person.
pub fn traced<T>(f: impl FnOnce() -> T) -> (T, Trace) {
    /// Puts back whatever trace was being recorded before, even if `f` panics.
    struct Restore(Option<Trace>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            TRACE.with(|t| *t.borrow_mut() = outer);
        }
    }
    let outer = TRACE.with(|t| t.borrow_mut().replace(Vec::new()));
    let _restore = Restore(outer);
    let out = f();
    let trace = TRACE.with(|t| t.borrow_mut().take()).unwrap_or_default();
    (out, trace)
}

fn record(r: &Read, v: &Val) {
    TRACE.with(|t| {
        if let Some(t) = t.borrow_mut().as_mut() {
            t.push((r.clone(), v.clone()));
        }
    });
}

/// Rhai strings for the words of a closed set (categories, ranks…), made once so a
/// read hands out a shared copy instead of allocating.
struct Words {
    sexes: Vec<(Sex, ImmutableString)>,
    categories: Vec<(Category, ImmutableString)>,
    ranks: Vec<(Rank, ImmutableString)>,
    self_care: Vec<(SelfCare, ImmutableString)>,
    empty: ImmutableString,
}

fn word<T: PartialEq + Copy>(table: &[(T, ImmutableString)], v: T) -> ImmutableString {
    table
        .iter()
        .find(|(k, _)| *k == v)
        .map(|(_, s)| s.clone())
        .expect("every value has its word")
}

static WORDS: std::sync::LazyLock<Words> = std::sync::LazyLock::new(|| {
    fn table<T: Copy>(all: &[T], w: fn(T) -> &'static str) -> Vec<(T, ImmutableString)> {
        all.iter().map(|&v| (v, w(v).into())).collect()
    }
    Words {
        sexes: table(&[Sex::Male, Sex::Female], Sex::as_str),
        categories: table(&Category::ALL, Category::as_str),
        ranks: table(&Rank::ALL, Rank::as_str),
        self_care: table(
            &[SelfCare::Full, SelfCare::Partial, SelfCare::None],
            SelfCare::as_str,
        ),
        empty: ImmutableString::new(),
    }
});

fn opt_date(d: Option<NaiveDate>) -> Val {
    d.map(Val::Date).unwrap_or(Val::Unit)
}

fn opt_str(s: &Option<ImmutableString>) -> Val {
    match s {
        Some(s) if !s.is_empty() => Val::Str(s.clone()),
        _ => Val::Unit,
    }
}

/// Answers one read natively. The only way scripts learn anything about a person.
pub fn read(d: &PersonData, r: &Read) -> Val {
    let p = &d.person;
    let w = &*WORDS;
    match r {
        Read::Id => Val::Str(d.key.as_ref().into()),
        Read::Name => Val::Str(p.name.clone()),
        Read::Sex => Val::Str(match p.facts.sex {
            Some(s) => word(&w.sexes, s),
            None => w.empty.clone(),
        }),
        Read::Category => Val::Str(word(&w.categories, p.facts.category)),
        Read::Rank => Val::Str(word(&w.ranks, p.facts.rank)),
        Read::RankAtLeast(r) => Val::Bool(p.facts.rank >= *r),
        Read::BirthDate => Val::Date(p.facts.birth_date),
        Read::Lunar => Val::Bool(p.facts.lunar_birthday),
        Read::LivesAlone => Val::Bool(p.facts.lives_alone),
        Read::EmptyNest => Val::Bool(p.facts.empty_nest),
        Read::Widowed => Val::Bool(p.facts.widowed),
        Read::Hardship => Val::Bool(p.facts.hardship),
        Read::SelfCare => Val::Str(word(&w.self_care, p.facts.self_care)),
        Read::HospitalisedSince => opt_date(p.facts.hospitalised_since),
        Read::DeceasedOn => opt_date(p.facts.deceased_on),
        Read::Community => opt_str(&p.community),
        Read::Branch => opt_str(&p.party_branch),
        Read::PartyMember => Val::Bool(
            p.party_branch
                .as_deref()
                .is_some_and(|b| !b.trim().is_empty()),
        ),
        Read::Active => Val::Bool(d.active),
        Read::Staff => Val::List(p.staff.iter().map(|s| Val::Str(s.clone())).collect()),
        Read::Tags => Val::List(p.tags.iter().map(|s| Val::Str(s.clone())).collect()),
        Read::HasTag(t) => Val::Bool(p.tags.iter().any(|x| x == t)),
        Read::Events => Val::List(
            d.events
                .iter()
                .map(|(kind, date)| Val::List(vec![Val::Str(kind.clone()), Val::Date(*date)]))
                .collect(),
        ),
        Read::AgeOn(day) => Val::Int(calendar::age_on(p.facts.birth_date, *day) as i64),
        Read::XusuiOn(day) => Val::Int(calendar::xusui_on(p.facts.birth_date, *day) as i64),
        Read::BirthdaysIn(year) => Val::List(
            d.birthdays_in(*year as i32)
                .into_iter()
                .map(|b| Val::List(vec![Val::Date(b.date), Val::Int(b.age as i64)]))
                .collect(),
        ),
        Read::InAudience(audience, min_rank) => {
            let cat = p.facts.category.as_str();
            let in_cat = audience.iter().any(|c| c.as_str() == cat);
            let rank_ok = match min_rank {
                Some(r) => Rank::parse(r).is_some_and(|r| p.facts.rank >= r),
                None => true,
            };
            Val::Bool(in_cat && rank_ok)
        }
    }
}

/// A recorded read, as the script sees it.
fn get(p: &PersonView, r: Read) -> Val {
    let v = read(&p.0, &r);
    record(&r, &v);
    v
}

fn to_dynamic(v: Val) -> Dynamic {
    match v {
        Val::Unit => Dynamic::UNIT,
        Val::Bool(b) => Dynamic::from(b),
        Val::Int(i) => Dynamic::from(i),
        Val::Date(d) => Dynamic::from(d),
        Val::Str(s) => Dynamic::from(s),
        Val::List(items) => Dynamic::from(items.into_iter().map(to_dynamic).collect::<Array>()),
    }
}

/// A list of pairs as a list of maps with these two field names.
fn pairs_to_maps(v: Val, first: &str, second: &str) -> Array {
    let Val::List(items) = v else {
        return Array::new();
    };
    items
        .into_iter()
        .map(|item| {
            let mut m = Map::new();
            if let Val::List(mut pair) = item {
                let b = pair.pop().unwrap_or(Val::Unit);
                let a = pair.pop().unwrap_or(Val::Unit);
                m.insert(first.into(), to_dynamic(a));
                m.insert(second.into(), to_dynamic(b));
            }
            Dynamic::from(m)
        })
        .collect()
}

fn get_bool(p: &PersonView, r: Read) -> bool {
    matches!(get(p, r), Val::Bool(true))
}

fn get_int(p: &PersonView, r: Read) -> i64 {
    match get(p, r) {
        Val::Int(i) => i,
        _ => 0,
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
    let c = cal.clone();
    engine.register_fn("workday_on_or_before", move |d: NaiveDate| {
        c.workday_on_or_before(d)
    });
    let c = cal.clone();
    engine.register_fn("workday_on_or_after", move |d: NaiveDate| {
        c.workday_on_or_after(d)
    });
    // The first working day of d's week (Monday to Sunday), 调休 counted: the
    // Monday, or later when it is a holiday; () when the whole week is off (the
    // week of 2026-02-16, 春节), so a weekly rule skips that week rather than
    // doubling the next.
    let c = cal.clone();
    engine.register_fn("first_workday_of_week", move |d: NaiveDate| -> Dynamic {
        let monday = d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday()));
        (0..7)
            .map(|i| monday + chrono::Duration::days(i))
            .find(|day| c.is_workday(*day))
            .map_or(Dynamic::UNIT, Dynamic::from)
    });
    // The Monday of each ISO week of `year` (week 1 holds the year's first Thursday,
    // so 2026's first Monday is 2025-12-29 and every week belongs to one year).
    engine.register_fn(
        "weeks_in",
        |year: i64| -> Result<Array, Box<EvalAltResult>> {
            let weeks = u32::try_from(year)
                .ok()
                .and_then(|y| NaiveDate::from_ymd_opt(y as i32, 12, 28))
                .map(|d| d.iso_week().week())
                .ok_or_else(|| err(format!("年份不对 no such year {year}")))?;
            Ok((1..=weeks)
                .filter_map(|w| NaiveDate::from_isoywd_opt(year as i32, w, chrono::Weekday::Mon))
                .map(Dynamic::from)
                .collect())
        },
    );
    // The n-th working day of a month (n from 1), 调休 counted.
    let c = cal.clone();
    engine.register_fn(
        "nth_workday",
        move |y: i64, m: i64, n: i64| -> Result<NaiveDate, Box<EvalAltResult>> {
            if !(1..=12).contains(&m) {
                return Err(err(format!("月份 month must be 1–12, got {m}")));
            }
            let first = NaiveDate::from_ymd_opt(y as i32, m as u32, 1)
                .ok_or_else(|| err(format!("年份不对 no such year {y}")))?;
            let days: Vec<NaiveDate> = first
                .iter_days()
                .take_while(|d| d.month() == first.month())
                .filter(|d| c.is_workday(*d))
                .collect();
            usize::try_from(n)
                .ok()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| days.get(i).copied())
                .ok_or_else(|| {
                    err(format!(
                        "{y}年{m}月只有 {} 个工作日,没有第 {n} 个 (no working day number {n})",
                        days.len()
                    ))
                })
        },
    );
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
    // A date compared with text or a number is always a mistake (`b.date <
    // "2026-06-01"` would silently be false): an error at that line instead.
    fn mismatch(other: &str) -> Result<bool, Box<EvalAltResult>> {
        Err(format!(
            "日期不能和{other}比较:请写成 date(2026, 6, 1) 或 date(\"2026-06-01\") \
             (a Date compared with {other})"
        )
        .into())
    }
    macro_rules! no_compare {
        ($($op:literal),*) => {$(
            engine.register_fn($op, |_: NaiveDate, _: ImmutableString| mismatch("文字"));
            engine.register_fn($op, |_: ImmutableString, _: NaiveDate| mismatch("文字"));
            engine.register_fn($op, |_: NaiveDate, _: i64| mismatch("数字"));
            engine.register_fn($op, |_: i64, _: NaiveDate| mismatch("数字"));
        )*};
    }
    no_compare!("==", "!=", "<", "<=", ">", ">=");
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
    // Every getter and method below reads through `get`, so it is recorded.
    macro_rules! getter {
        ($name:literal, $read:expr) => {
            engine.register_get($name, |p: &mut PersonView| to_dynamic(get(p, $read)));
        };
    }
    getter!("id", Read::Id);
    getter!("name", Read::Name);
    getter!("sex", Read::Sex);
    getter!("category", Read::Category);
    getter!("rank", Read::Rank);
    getter!("birth_date", Read::BirthDate);
    getter!("lunar", Read::Lunar);
    getter!("lives_alone", Read::LivesAlone);
    getter!("empty_nest", Read::EmptyNest);
    getter!("widowed", Read::Widowed);
    getter!("hardship", Read::Hardship);
    getter!("self_care", Read::SelfCare);
    getter!("hospitalised_since", Read::HospitalisedSince);
    getter!("deceased_on", Read::DeceasedOn);
    getter!("community", Read::Community);
    getter!("branch", Read::Branch);
    getter!("party_member", Read::PartyMember);
    getter!("active", Read::Active);
    getter!("staff", Read::Staff);
    getter!("tags", Read::Tags);
    // Printing a person prints the name (and counts as reading it).
    engine.register_fn("to_string", |p: &mut PersonView| {
        to_dynamic(get(p, Read::Name))
    });
    engine.register_fn("to_debug", |p: &mut PersonView| {
        to_dynamic(get(p, Read::Name))
    });
    engine.register_fn(
        "rank_at_least",
        |p: &mut PersonView, r: &str| -> Result<bool, Box<EvalAltResult>> {
            Ok(get_bool(p, Read::RankAtLeast(rank_arg(r)?)))
        },
    );
    engine.register_fn("has_tag", |p: &mut PersonView, t: ImmutableString| {
        get_bool(p, Read::HasTag(t))
    });
    engine.register_get("events", |p: &mut PersonView| {
        pairs_to_maps(get(p, Read::Events), "kind", "date")
    });
    // The same documents for every person of a roster (and part of the cache key).
    engine.register_get("documents", |p: &mut PersonView| {
        p.0.script_documents.as_ref().clone()
    });
    engine.register_fn("age_on", |p: &mut PersonView, d: NaiveDate| {
        get_int(p, Read::AgeOn(d))
    });
    engine.register_fn("xusui_on", |p: &mut PersonView, d: NaiveDate| {
        get_int(p, Read::XusuiOn(d))
    });
    engine.register_fn("birthdays_in", |p: &mut PersonView, year: i64| {
        pairs_to_maps(get(p, Read::BirthdaysIn(year)), "date", "age")
    });
    engine.register_fn("in_audience", |p: &mut PersonView, doc: Map| {
        let audience = doc
            .get("audience")
            .and_then(|a| a.read_lock::<Array>().map(|a| a.clone()))
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.read_lock::<ImmutableString>().map(|s| s.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let min_rank = doc
            .get("min_rank")
            .and_then(|r| r.read_lock::<ImmutableString>().map(|s| s.clone()));
        get_bool(p, Read::InAudience(audience, min_rank))
    });
}
